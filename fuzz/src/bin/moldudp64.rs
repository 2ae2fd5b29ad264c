//! AFL++ target `moldudp64`: see `kestrel_tests::fuzz::moldudp64`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::fuzz::moldudp64(data));
}

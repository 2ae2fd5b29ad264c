//! AFL++ target `itch`: see `kestrel_tests::fuzz::itch`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::fuzz::itch(data));
}

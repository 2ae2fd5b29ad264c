//! AFL++ target `kcap`: see `kestrel_tests::fuzz::kcap`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::fuzz::kcap(data));
}

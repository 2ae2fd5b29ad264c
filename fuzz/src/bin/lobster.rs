//! AFL++ target `lobster`: see `kestrel_tests::fuzz::lobster`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::fuzz::lobster(data));
}

//! AFL++ target `dbn`: see `kestrel_tests::venue_fuzz::dbn`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::venue_fuzz::dbn(data));
}

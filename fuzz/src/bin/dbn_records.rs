//! AFL++ target `dbn_records`: see `kestrel_tests::venue_fuzz::dbn_records`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::venue_fuzz::dbn_records(data));
}

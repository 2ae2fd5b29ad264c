//! AFL++ target `binance_json`: see `kestrel_tests::venue_fuzz::binance_json`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::venue_fuzz::binance_json(data));
}

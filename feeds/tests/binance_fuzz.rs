//! Arbitrary and mutated input into the Binance decoder and feed: never panics, errors carry
//! their record number, and the feed keeps working afterwards.

use kestrel_core::Timestamp;
use kestrel_core::book::L2Books;
use kestrel_feeds::binance::{
    BinanceConfig, BinanceDecoder, BinanceFeed, Market, builtin_spec, spec_table,
};
use kestrel_feeds::venue::VenueEvent;
use proptest::prelude::*;

const SEEDS: [&str; 5] = [
    r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":11,"u":12,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"]]}}"#,
    r#"{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}"#,
    r#"{"e":"trade","E":1,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1,"m":true,"M":true}"#,
    r#"{"lastUpdateId":10,"bids":[["61837.63000000","3.78826000"]],"asks":[["61837.64000000","1"]]}"#,
    r#"{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1.00","q":"2","f":1,"l":2,"T":1,"m":false}"#,
];

fn feed() -> BinanceFeed {
    let table = spec_table(&[builtin_spec(Market::Spot, "BTCUSDT").unwrap()]).unwrap();
    BinanceFeed::new(BinanceConfig::new(Market::Spot), table)
}

fn run(f: &mut BinanceFeed, bytes: &[u8], channel: u16) -> Result<(), TestCaseError> {
    let before = f.stats().records;
    let mut sink = |_: &VenueEvent, _: &L2Books| {};
    if let Err(e) = f.on_message(Timestamp(1), channel, bytes, &mut sink) {
        prop_assert_eq!(e.record, before + 1);
        prop_assert!(!e.to_string().is_empty());
    }
    prop_assert_eq!(f.stats().records, before + 1);
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut d = BinanceDecoder::new(16);
        let _ = d.decode(&bytes);
        let mut f = feed();
        run(&mut f, &bytes, 0)?;
        run(&mut f, &bytes, 1)?;
    }

    #[test]
    fn mutated_messages_never_panic_and_the_feed_recovers(
        seed in 0..SEEDS.len(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = SEEDS[seed].as_bytes().to_vec();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        let mut f = feed();
        run(&mut f, &bytes, 1)?;
        run(&mut f, &bytes[..keep], 1)?;
        // A clean snapshot afterwards is applied.
        let mut sink = |_: &VenueEvent, _: &L2Books| {};
        prop_assert!(f.on_message(Timestamp(2), 1, SEEDS[3].as_bytes(), &mut sink).is_ok()
            || f.stats().stale_snapshots > 0);
    }
}

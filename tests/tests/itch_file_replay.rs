//! The bundled NASDAQ ITCH 5.0 test file through the feed handler (framer path).

use kestrel_feeds::handler::{FeedHandler, HandlerConfig};

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

#[test]
fn raw_itch_file_decodes_every_message() {
    let data = std::fs::read(ITCH_FILE).expect("bundled ITCH file");
    let mut handler = FeedHandler::new(HandlerConfig::default());
    let mut events = 0u64;
    handler.replay_itch_file(
        &data,
        &mut |_: &kestrel_feeds::handler::FeedEvent, _: &kestrel_core::book::L3Books| events += 1,
    );
    let stats = handler.stats();
    eprintln!("{stats:?}");
    assert_eq!(stats.itch_messages, 12_012);
    assert_eq!(stats.decode_errors, 0);
    assert_eq!(stats.framing_errors, 0);
    assert_eq!(stats.events, events);
}

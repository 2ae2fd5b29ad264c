//! Arbitrary bytes into the MoldUDP64 parser and sequencer: never panic; errors point inside
//! the packet; what parses is consistent.

use kestrel_feeds::moldudp64::{
    HEADER_LEN, MoldError, MoldPacket, MoldRequest, MoldSequencer, SeqEvent, SequencerConfig,
};
use proptest::prelude::*;

/// Bytes that often look like a packet: a header with a small count, then random blocks.
fn plausible() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(any::<u8>(), 18),
        0u16..6,
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(head, count, tail)| {
            let mut out = head;
            out.extend_from_slice(&count.to_be_bytes());
            out.extend_from_slice(&tail);
            out
        })
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match MoldPacket::parse(bytes) {
        Ok(p) => {
            let msgs: Vec<_> = p.messages().collect();
            prop_assert_eq!(msgs.len(), usize::from(p.message_count()));
            let used: usize = msgs.iter().map(|(_, m)| 2 + m.len()).sum();
            prop_assert_eq!(HEADER_LEN + used, bytes.len());
            for (i, (seq, _)) in msgs.iter().enumerate() {
                prop_assert_eq!(*seq, p.sequence() + i as u64);
            }
        }
        Err(MoldError::Truncated {
            offset, available, ..
        }) => {
            prop_assert!(offset >= HEADER_LEN && offset <= bytes.len());
            prop_assert_eq!(available, bytes.len() - offset);
        }
        Err(MoldError::TrailingBytes { offset, extra }) => {
            prop_assert_eq!(offset + extra, bytes.len());
        }
        Err(MoldError::ShortHeader { len }) => prop_assert!(len < HEADER_LEN),
        Err(MoldError::SequenceOverflow { .. }) => {}
        Err(e) => prop_assert!(false, "unexpected error {e}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn parse_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        check(&bytes)?;
        let _ = MoldRequest::decode(&bytes);
    }

    #[test]
    fn parse_plausible_packets(bytes in plausible()) {
        check(&bytes)?;
    }

    #[test]
    fn sequencer_survives_arbitrary_datagrams(
        datagrams in prop::collection::vec(plausible(), 0..40),
    ) {
        let mut s = MoldSequencer::new(SequencerConfig { reorder_packets: 3, ..Default::default() });
        // Within a session, delivered sequences strictly increase.
        let mut last: Option<u64> = None;
        let mut increasing = true;
        for d in &datagrams {
            let _ = s.on_packet(d, |e| match e {
                SeqEvent::Message { seq, .. } => {
                    increasing &= last.is_none_or(|l| seq > l);
                    last = Some(seq);
                }
                SeqEvent::SessionChanged { .. } => last = None,
                SeqEvent::Lost(r) => {
                    increasing &= last.is_none_or(|l| r.first > l) && r.end > r.first;
                    last = Some(r.end - 1);
                }
            });
        }
        prop_assert!(increasing);
        let mut flush = |_: SeqEvent<'_>| {};
        s.flush(&mut flush);
        prop_assert_eq!(s.stats().packets + s.stats().malformed, datagrams.len() as u64);
    }
}

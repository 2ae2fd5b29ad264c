//! The venue's latency model: how long an order takes to reach the matching engine, how long
//! the engine's response takes to reach the participant, and how long market data takes from
//! the match to the feed. Each is a fixed base plus an optional uniform jitter drawn from a
//! seeded generator, so a run is reproducible. Delivery keeps each stream in order (a later
//! message never overtakes an earlier one, as on one TCP connection or one multicast group).
//! Each stream draws from a generator of its own, so the delays of one stream depend only on
//! how many of its own messages came before (what lets a restarted venue replay its journal
//! to exactly the same state, whatever the interleaving of its polls).

use kestrel_core::Timestamp;

/// One delay: `base_ns` plus a uniform draw in `[0, jitter_ns]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delay {
    /// Fixed part, nanoseconds.
    pub base_ns: u64,
    /// Largest random addition, nanoseconds.
    pub jitter_ns: u64,
}

/// The three delays and the generator's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// Participant -> matching engine.
    pub order_entry: Delay,
    /// Matching engine -> participant.
    pub order_response: Delay,
    /// Matching engine -> market data feed.
    pub market_data: Delay,
    /// Seed of the jitter generator.
    pub seed: u64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            order_entry: Delay {
                base_ns: 20_000,
                jitter_ns: 0,
            },
            order_response: Delay {
                base_ns: 20_000,
                jitter_ns: 0,
            },
            market_data: Delay {
                base_ns: 10_000,
                jitter_ns: 0,
            },
            seed: 1,
        }
    }
}

/// Which stream a delay is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Orders in.
    OrderEntry,
    /// Responses out.
    OrderResponse,
    /// Market data out.
    MarketData,
}

/// Draws delays and keeps each stream's delivery times non-decreasing.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    config: LatencyConfig,
    state: [u64; 3],
    last_due: [u64; 3],
}

impl LatencyModel {
    /// A model with `config`.
    pub fn new(config: LatencyConfig) -> Self {
        Self {
            config,
            state: [0u64, 1, 2].map(|i| {
                // A distinct, non-zero xorshift state per stream.
                let x = config
                    .seed
                    .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                    .wrapping_mul(0xBF58_476D_1CE4_E5B9);
                (x ^ (x >> 31)) | 1
            }),
            last_due: [0; 3],
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LatencyConfig {
        &self.config
    }

    fn draw(&mut self, i: usize, jitter: u64) -> u64 {
        if jitter == 0 {
            return 0;
        }
        // xorshift64*: small, fast, reproducible.
        let s = &mut self.state[i];
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
        r % (jitter + 1)
    }

    /// When something sent at `now` on `stream` arrives.
    pub fn due(&mut self, stream: Stream, now: Timestamp) -> Timestamp {
        let (delay, i) = match stream {
            Stream::OrderEntry => (self.config.order_entry, 0),
            Stream::OrderResponse => (self.config.order_response, 1),
            Stream::MarketData => (self.config.market_data, 2),
        };
        let d = delay.base_ns + self.draw(i, delay.jitter_ns);
        let due = now.nanos().saturating_add(d).max(self.last_due[i]);
        self.last_due[i] = due;
        Timestamp(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_jittered_delays_keep_order_and_repeat() {
        let cfg = LatencyConfig {
            order_entry: Delay {
                base_ns: 100,
                jitter_ns: 50,
            },
            ..LatencyConfig::default()
        };
        let run = || {
            let mut m = LatencyModel::new(cfg);
            (0..100)
                .map(|t| m.due(Stream::OrderEntry, Timestamp(t)).nanos())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run(), "same seed, same delays");
        assert!(a.windows(2).all(|w| w[0] <= w[1]), "in order");
        assert!(
            a.iter()
                .enumerate()
                .all(|(t, d)| *d >= t as u64 + 100 && *d <= t as u64 + 150 + 100)
        );
        let mut m = LatencyModel::new(LatencyConfig::default());
        assert_eq!(m.due(Stream::MarketData, Timestamp(5)), Timestamp(10_005));
    }

    #[test]
    fn each_stream_draws_on_its_own() {
        let j = Delay {
            base_ns: 0,
            jitter_ns: 1_000_000,
        };
        let cfg = LatencyConfig {
            order_entry: j,
            order_response: j,
            market_data: j,
            seed: 7,
        };
        // Entry delays alone, and interleaved with draws of the other streams: the same.
        let mut a = LatencyModel::new(cfg);
        let alone: Vec<u64> = (0..50)
            .map(|t| a.due(Stream::OrderEntry, Timestamp(t * 10_000_000)).nanos())
            .collect();
        let mut b = LatencyModel::new(cfg);
        let mixed: Vec<u64> = (0..50)
            .map(|t| {
                b.due(Stream::MarketData, Timestamp(t * 10_000_000));
                b.due(Stream::OrderResponse, Timestamp(t * 10_000_000));
                b.due(Stream::OrderEntry, Timestamp(t * 10_000_000)).nanos()
            })
            .collect();
        assert_eq!(alone, mixed);
        assert!(
            alone.windows(2).any(|w| w[1] - w[0] != 10_000_000),
            "jittered"
        );
    }
}

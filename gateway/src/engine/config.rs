//! The gateway engine's settings.

use crate::algo::AlgoKind;
use crate::oms::OmsConfig;
use crate::risk::RiskLimits;

/// How intents become orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IntentAlgo {
    /// One limit order per intent: day order for passive and normal urgency, IOC for
    /// aggressive.
    #[default]
    Direct,
    /// Every intent becomes a parent order worked by this algorithm.
    Parent(AlgoKind),
}

/// Gateway engine settings.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// OMS settings (symbols, token prefix, fees, capacities).
    pub oms: OmsConfig,
    /// Pre-trade limits.
    pub limits: RiskLimits,
    /// Cancel our open orders on the other side of an instrument when an intent arrives.
    pub cancel_opposite: bool,
    /// Cancel a resting order older than this (event time, ns; 0: never).
    pub order_ttl_ns: u64,
    /// How intents are worked.
    pub intent_algo: IntentAlgo,
    /// Parent orders at once.
    pub max_parents: usize,
    /// Realised-spread horizon for TCA (event time, ns).
    pub tca_horizon_ns: u64,
    /// Resend orders still pending acceptance after the venue link comes back up (OUCH
    /// ignores an Enter Order whose token it has seen, so this is safe).
    pub resend_pending_on_reconnect: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            oms: OmsConfig::default(),
            limits: RiskLimits::default(),
            cancel_opposite: true,
            order_ttl_ns: 0,
            intent_algo: IntentAlgo::Direct,
            max_parents: 64,
            tca_horizon_ns: 1_000_000_000,
            resend_pending_on_reconnect: true,
        }
    }
}

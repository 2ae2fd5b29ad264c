//! pcap and pcapng input: UDP payloads out of captured frames, as the same [`Record`] stream a
//! `.kcap` file gives, so a pcap of MoldUDP64 traffic feeds the same decoding path.
//!
//! - [`frame`]: Ethernet II (802.1Q / 802.1ad tags), Linux cooked (SLL, SLL2) and raw IPv4
//!   link layers, IPv4 (options, fragments), UDP.
//! - [`channel`]: UDP destination port -> record channel.
//! - [`reader`]: [`PcapCapture`] reads classic pcap and pcapng through the `pcap-file` crate.
//! - [`convert`]: [`pcap_to_kcap`], for `kestrel import pcap`.
//!
//! [`Record`]: crate::kcap::Record

pub mod channel;
pub mod convert;
pub mod error;
pub mod frame;
pub mod reader;

pub use channel::ChannelMap;
pub use convert::{ConvertReport, pcap_to_kcap};
pub use error::PcapError;
pub use frame::{FrameError, FrameKind, Layer, LinkType, SkipReason, UdpDatagram, parse_frame};
pub use reader::{CaptureFormat, PcapCapture, PcapRecords, PcapStats};

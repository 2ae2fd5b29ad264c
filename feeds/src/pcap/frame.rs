//! Link layer -> IPv4 -> UDP, by hand, bounds-checked, zero copy.

use pcap_file::DataLink;

/// Link layers this reader understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II, with any number (up to 4) of 802.1Q / 802.1ad VLAN tags.
    Ethernet,
    /// Linux cooked capture v1 (`tcpdump -i any`).
    LinuxSll,
    /// Linux cooked capture v2.
    LinuxSll2,
    /// Bare IP packets (DLT_RAW / LINKTYPE_IPV4).
    RawIp,
}

impl LinkType {
    /// The link type of a pcap data link, if supported.
    pub fn from_datalink(link: DataLink) -> Option<Self> {
        match link {
            DataLink::ETHERNET => Some(Self::Ethernet),
            DataLink::LINUX_SLL => Some(Self::LinuxSll),
            DataLink::LINUX_SLL2 => Some(Self::LinuxSll2),
            DataLink::RAW | DataLink::IPV4 => Some(Self::RawIp),
            _ => None,
        }
    }
}

/// Protocol layer of a frame error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Ethernet / SLL header.
    Link,
    /// An 802.1Q tag.
    Vlan,
    /// IPv4 header or payload.
    Ipv4,
    /// UDP header or payload.
    Udp,
}

/// A frame that cannot be decoded. Offsets are from the start of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame ends inside a header or payload (snap length, damaged capture).
    #[error("{layer:?} at byte {offset} needs {needed} bytes, frame has {available}")]
    Truncated {
        /// Where.
        layer: Layer,
        /// Offset of the layer.
        offset: usize,
        /// Bytes the layer needs.
        needed: usize,
        /// Bytes available from `offset`.
        available: usize,
    },
    /// The IPv4 header is invalid.
    #[error("bad IPv4 header at byte {offset}: {what}")]
    BadIpv4 {
        /// Offset of the IP header.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The UDP length field is below 8.
    #[error("bad UDP length {length} at byte {offset}")]
    BadUdpLength {
        /// Offset of the UDP header.
        offset: usize,
        /// The length field.
        length: u16,
    },
}

/// Why a well-formed frame carries no record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Not IPv4 (ARP, IPv6, ...): the ethertype / protocol found.
    NotIpv4 {
        /// Ethertype (or, for raw IP, the IP version).
        ethertype: u16,
    },
    /// IPv4 but not UDP.
    NotUdp {
        /// IP protocol number.
        protocol: u8,
    },
    /// An IPv4 fragment (reassembly is not supported).
    Fragment,
}

/// A UDP datagram inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// IPv4 source address.
    pub src: [u8; 4],
    /// IPv4 destination address.
    pub dst: [u8; 4],
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// Offset of the payload in the frame.
    pub payload_offset: usize,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// What a frame holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind<'a> {
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// Something else, counted and skipped.
    Skipped(SkipReason),
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const MAX_VLAN_TAGS: usize = 4;
const IPPROTO_UDP: u8 = 17;
const UDP_HEADER_LEN: usize = 8;

fn be16(
    frame: &[u8],
    at: usize,
    layer: Layer,
    needed: usize,
    base: usize,
) -> Result<u16, FrameError> {
    frame
        .get(at..at.saturating_add(2))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_be_bytes)
        .ok_or(FrameError::Truncated {
            layer,
            offset: base,
            needed,
            available: frame.len().saturating_sub(base),
        })
}

/// The `N` bytes at `frame[at..]`, or a truncation error.
fn fixed<const N: usize>(frame: &[u8], at: usize, layer: Layer) -> Result<[u8; N], FrameError> {
    frame
        .get(at..at.saturating_add(N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(FrameError::Truncated {
            layer,
            offset: at,
            needed: N,
            available: frame.len().saturating_sub(at),
        })
}

fn need(frame: &[u8], offset: usize, needed: usize, layer: Layer) -> Result<(), FrameError> {
    let available = frame.len().saturating_sub(offset);
    if available < needed {
        return Err(FrameError::Truncated {
            layer,
            offset,
            needed,
            available,
        });
    }
    Ok(())
}

/// Decodes a captured frame down to its UDP payload.
pub fn parse_frame(link: LinkType, frame: &[u8]) -> Result<FrameKind<'_>, FrameError> {
    let (ethertype, ip_offset) = match link {
        LinkType::Ethernet => ethernet(frame)?,
        LinkType::LinuxSll => {
            need(frame, 0, 16, Layer::Link)?;
            (be16(frame, 14, Layer::Link, 16, 0)?, 16)
        }
        LinkType::LinuxSll2 => {
            need(frame, 0, 20, Layer::Link)?;
            (be16(frame, 0, Layer::Link, 20, 0)?, 20)
        }
        LinkType::RawIp => {
            need(frame, 0, 1, Layer::Ipv4)?;
            let version = frame.first().map_or(0, |b| b >> 4);
            if version != 4 {
                return Ok(FrameKind::Skipped(SkipReason::NotIpv4 {
                    ethertype: u16::from(version),
                }));
            }
            (ETHERTYPE_IPV4, 0)
        }
    };
    if ethertype != ETHERTYPE_IPV4 {
        return Ok(FrameKind::Skipped(SkipReason::NotIpv4 { ethertype }));
    }
    ipv4(frame, ip_offset)
}

/// Ethernet II header and VLAN tags: the inner ethertype and the offset after them.
fn ethernet(frame: &[u8]) -> Result<(u16, usize), FrameError> {
    need(frame, 0, 14, Layer::Link)?;
    let mut ethertype = be16(frame, 12, Layer::Link, 14, 0)?;
    let mut at = 14;
    for _ in 0..MAX_VLAN_TAGS {
        if !ETHERTYPE_VLAN.contains(&ethertype) {
            break;
        }
        need(frame, at, 4, Layer::Vlan)?;
        ethertype = be16(frame, at + 2, Layer::Vlan, 4, at)?;
        at += 4;
    }
    Ok((ethertype, at))
}

fn ipv4(frame: &[u8], at: usize) -> Result<FrameKind<'_>, FrameError> {
    let ip: [u8; 20] = fixed(frame, at, Layer::Ipv4)?;
    let version = ip[0] >> 4;
    if version != 4 {
        return Err(FrameError::BadIpv4 {
            offset: at,
            what: "version is not 4",
        });
    }
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    if header_len < 20 {
        return Err(FrameError::BadIpv4 {
            offset: at,
            what: "header length below 20 bytes",
        });
    }
    need(frame, at, header_len, Layer::Ipv4)?;
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total_len < header_len {
        return Err(FrameError::BadIpv4 {
            offset: at,
            what: "total length below header length",
        });
    }
    // Frames may carry link padding after the IP packet; a shorter frame is truncated.
    need(frame, at, total_len, Layer::Ipv4)?;
    let flags_fragment = u16::from_be_bytes([ip[6], ip[7]]);
    let more_fragments = flags_fragment & 0x2000 != 0;
    let fragment_offset = flags_fragment & 0x1fff;
    if more_fragments || fragment_offset != 0 {
        return Ok(FrameKind::Skipped(SkipReason::Fragment));
    }
    let protocol = ip[9];
    if protocol != IPPROTO_UDP {
        return Ok(FrameKind::Skipped(SkipReason::NotUdp { protocol }));
    }
    let src = [ip[12], ip[13], ip[14], ip[15]];
    let dst = [ip[16], ip[17], ip[18], ip[19]];
    let udp_at = at + header_len;
    let ip_end = at + total_len;
    let udp = frame.get(udp_at..ip_end).unwrap_or_default();
    let head: [u8; UDP_HEADER_LEN] =
        fixed(udp, 0, Layer::Udp).map_err(|_| FrameError::Truncated {
            layer: Layer::Udp,
            offset: udp_at,
            needed: UDP_HEADER_LEN,
            available: udp.len(),
        })?;
    let src_port = u16::from_be_bytes([head[0], head[1]]);
    let dst_port = u16::from_be_bytes([head[2], head[3]]);
    let length = u16::from_be_bytes([head[4], head[5]]);
    let udp_len = usize::from(length);
    if udp_len < UDP_HEADER_LEN {
        return Err(FrameError::BadUdpLength {
            offset: udp_at,
            length,
        });
    }
    let payload = udp
        .get(UDP_HEADER_LEN..udp_len)
        .ok_or(FrameError::Truncated {
            layer: Layer::Udp,
            offset: udp_at,
            needed: udp_len,
            available: udp.len(),
        })?;
    Ok(FrameKind::Udp(UdpDatagram {
        src,
        dst,
        src_port,
        dst_port,
        payload_offset: udp_at + UDP_HEADER_LEN,
        payload,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip_udp(udp_len_field: u16, payload: &[u8]) -> Vec<u8> {
        let total = (20 + 8 + payload.len()) as u16;
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        ip.extend_from_slice(&[0x9c, 0x40, 0x67, 0x20]);
        ip.extend_from_slice(&udp_len_field.to_be_bytes());
        ip.extend_from_slice(&[0, 0]);
        ip.extend_from_slice(payload);
        ip
    }

    #[test]
    fn raw_ip_udp_decodes() {
        let frame = ip_udp(11, b"abc");
        let FrameKind::Udp(d) = parse_frame(LinkType::RawIp, &frame).unwrap() else {
            panic!("not udp");
        };
        assert_eq!((d.src, d.dst), ([1, 2, 3, 4], [5, 6, 7, 8]));
        assert_eq!((d.src_port, d.dst_port), (40000, 26400));
        assert_eq!((d.payload, d.payload_offset), (&b"abc"[..], 28));
    }

    #[test]
    fn udp_length_errors() {
        assert_eq!(
            parse_frame(LinkType::RawIp, &ip_udp(7, b"abc")),
            Err(FrameError::BadUdpLength {
                offset: 20,
                length: 7
            })
        );
        assert_eq!(
            parse_frame(LinkType::RawIp, &ip_udp(12, b"abc")),
            Err(FrameError::Truncated {
                layer: Layer::Udp,
                offset: 20,
                needed: 12,
                available: 11
            })
        );
    }

    #[test]
    fn ip_header_errors() {
        let mut frame = ip_udp(11, b"abc");
        frame[0] = 0x44;
        assert!(matches!(
            parse_frame(LinkType::RawIp, &frame),
            Err(FrameError::BadIpv4 { offset: 0, .. })
        ));
        frame[0] = 0x4f; // 60-byte header in a 31-byte packet
        assert!(matches!(
            parse_frame(LinkType::RawIp, &frame),
            Err(FrameError::Truncated {
                layer: Layer::Ipv4,
                needed: 60,
                ..
            })
        ));
        assert_eq!(
            parse_frame(LinkType::RawIp, &[0x60; 40]),
            Ok(FrameKind::Skipped(SkipReason::NotIpv4 { ethertype: 6 }))
        );
    }

    #[test]
    fn short_link_headers() {
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0x00]);
        assert!(matches!(
            parse_frame(LinkType::Ethernet, &eth),
            Err(FrameError::Truncated {
                layer: Layer::Vlan,
                offset: 14,
                ..
            })
        ));
        assert!(matches!(
            parse_frame(LinkType::Ethernet, &eth[..13]),
            Err(FrameError::Truncated {
                layer: Layer::Link,
                ..
            })
        ));
        assert!(matches!(
            parse_frame(LinkType::LinuxSll, &[0; 15]),
            Err(FrameError::Truncated {
                layer: Layer::Link,
                needed: 16,
                ..
            })
        ));
    }
}

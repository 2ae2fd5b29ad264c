//! Which record channel a UDP datagram goes to.

/// Maps UDP destination ports to record channels. By default a datagram's channel is its
/// destination port; explicit entries override that, and [`ChannelMap::only_mapped`] drops
/// datagrams to other ports (counted by the reader).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelMap {
    entries: Vec<(u16, u16)>,
    only_mapped: bool,
}

impl ChannelMap {
    /// Channel = UDP destination port.
    pub fn by_port() -> Self {
        Self::default()
    }

    /// Sends datagrams to `port` to `channel`.
    pub fn with(mut self, port: u16, channel: u16) -> Self {
        self.entries.retain(|&(p, _)| p != port);
        self.entries.push((port, channel));
        self
    }

    /// Drops datagrams to ports without an entry.
    pub fn only_mapped(mut self) -> Self {
        self.only_mapped = true;
        self
    }

    /// The channel for a destination port, or `None` when such datagrams are dropped.
    pub fn channel(&self, dst_port: u16) -> Option<u16> {
        match self.entries.iter().find(|&&(p, _)| p == dst_port) {
            Some(&(_, c)) => Some(c),
            None if self.only_mapped => None,
            None => Some(dst_port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapped_and_filtered() {
        let m = ChannelMap::by_port().with(26400, 1).with(26401, 2);
        assert_eq!(m.channel(26400), Some(1));
        assert_eq!(m.channel(5), Some(5));
        let m = m.with(26400, 7).only_mapped();
        assert_eq!(m.channel(26400), Some(7));
        assert_eq!(m.channel(5), None);
    }
}

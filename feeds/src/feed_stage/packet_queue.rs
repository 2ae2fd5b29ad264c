//! The `packet` policy's hold on urgent updates (prints, status changes) until it is known
//! whether they are the last update of their instrument in their packet.
//!
//! An urgent update goes in as it happens; a later update of the same instrument in the same
//! packet marks it [`BookUpdate::more_in_packet`], and from the front every update so marked
//! goes out at once (its flag is final). At the packet's end the rest goes out: those not
//! marked are their instrument's last. The order out is the order in: the consumer sees the
//! same updates in the same sequence as if each went out as it happened, only later, with
//! the flag set.

use std::collections::VecDeque;

use kestrel_core::BookUpdate;

/// No update of the instrument is held (a ticket no update gets).
pub(super) const NONE: u32 = u32::MAX;

/// Updates held within one packet, in arrival order; each named by its ticket (0, 1, 2, ...
/// from the packet's first held update).
#[derive(Debug)]
pub(super) struct PacketQueue {
    held: VecDeque<BookUpdate>,
    /// Tickets handed out in this packet (the next one's number).
    pushed: u32,
    /// Updates sent from the front in this packet (the front's ticket).
    sent: u32,
}

impl PacketQueue {
    /// Room for `capacity` updates held at once before the queue grows (a packet with more
    /// instruments' urgent updates outstanding than that grows it once).
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            held: VecDeque::with_capacity(capacity),
            pushed: 0,
            sent: 0,
        }
    }

    /// Nothing held.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Marks the held update `ticket` as followed by a later update of its instrument in this
    /// packet (`NONE`, or an update already sent: nothing to do).
    #[inline]
    pub(super) fn mark_followed(&mut self, ticket: u32) {
        if ticket == NONE || ticket < self.sent {
            return;
        }
        let at = (ticket - self.sent) as usize;
        if let Some(u) = self.held.get_mut(at) {
            u.more_in_packet = true;
        }
    }

    /// Holds `update` (its instrument's previous held update, `previous`, is marked followed)
    /// and sends every update at the front whose flag is now final through `send`. Returns
    /// the ticket of `update`.
    #[inline]
    pub(super) fn push(
        &mut self,
        update: BookUpdate,
        previous: u32,
        mut send: impl FnMut(BookUpdate),
    ) -> u32 {
        self.mark_followed(previous);
        let ticket = self.pushed;
        self.pushed += 1;
        self.held.push_back(update);
        while let Some(front) = self.held.front() {
            if !front.more_in_packet {
                break;
            }
            send(*front);
            self.held.pop_front();
            self.sent += 1;
        }
        ticket
    }

    /// The packet's end: sends everything still held, in order (each update not marked
    /// followed is its instrument's last of the packet), and starts the next packet's
    /// tickets from 0.
    #[inline]
    pub(super) fn end_packet(&mut self, mut send: impl FnMut(BookUpdate)) {
        while let Some(u) = self.held.pop_front() {
            send(u);
        }
        self.pushed = 0;
        self.sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::InstrumentId;

    /// One step of a generated stream: hold an update of instrument `i` (mod 4), or (None)
    /// end the packet.
    fn run(steps: &[Option<u8>]) -> Vec<BookUpdate> {
        let mut q = PacketQueue::with_capacity(2);
        let mut latest = [NONE; 4];
        let mut out = Vec::new();
        let mut seq = 0;
        for step in steps {
            match step {
                Some(i) => {
                    let i = usize::from(*i % 4);
                    seq += 1;
                    let u = BookUpdate {
                        instrument: InstrumentId(i as u32),
                        seq,
                        ..BookUpdate::default()
                    };
                    latest[i] = q.push(u, latest[i], |u| out.push(u));
                }
                None => {
                    q.end_packet(|u| out.push(u));
                    latest = [NONE; 4];
                }
            }
        }
        q.end_packet(|u| out.push(u));
        out
    }

    /// The reference: every update of the packet, in order, flagged when a later update of
    /// its instrument is in the same packet.
    fn reference(steps: &[Option<u8>]) -> Vec<BookUpdate> {
        let mut out = Vec::new();
        let mut packet: Vec<BookUpdate> = Vec::new();
        let mut seq = 0;
        let close = |packet: &mut Vec<BookUpdate>, out: &mut Vec<BookUpdate>| {
            for k in 0..packet.len() {
                let later = packet[k + 1..]
                    .iter()
                    .any(|v| v.instrument == packet[k].instrument);
                packet[k].more_in_packet = later;
            }
            out.append(packet);
        };
        for step in steps {
            match step {
                Some(i) => {
                    seq += 1;
                    packet.push(BookUpdate {
                        instrument: InstrumentId(u32::from(*i % 4)),
                        seq,
                        ..BookUpdate::default()
                    });
                }
                None => close(&mut packet, &mut out),
            }
        }
        close(&mut packet, &mut out);
        out
    }

    proptest::proptest! {
        /// The queue sends exactly the reference's updates, in the same order, flagged alike,
        /// whatever the mix of instruments and packet lengths (and past its first capacity).
        #[test]
        fn sends_every_update_in_order_flagged_as_the_reference(
            steps in proptest::collection::vec(
                proptest::option::weighted(0.85, 0u8..4), 0..300),
        ) {
            proptest::prop_assert_eq!(run(&steps), reference(&steps));
        }
    }

    #[test]
    fn a_single_instruments_updates_go_out_as_the_next_arrives() {
        let mut q = PacketQueue::with_capacity(4);
        let mut out = Vec::new();
        let u = |seq| BookUpdate {
            seq,
            ..BookUpdate::default()
        };
        let t0 = q.push(u(1), NONE, |u| out.push(u));
        assert!(out.is_empty(), "the first may be the last: held");
        let t1 = q.push(u(2), t0, |u| out.push(u));
        assert_eq!(out.len(), 1);
        assert!(out[0].more_in_packet);
        // A later non-held update (the packet's flush) marks the held one.
        q.mark_followed(t1);
        q.end_packet(|u| out.push(u));
        assert_eq!(
            out.iter()
                .map(|u| (u.seq, u.more_in_packet))
                .collect::<Vec<_>>(),
            [(1, true), (2, true)]
        );
        assert!(q.is_empty());
        assert_eq!(
            q.push(u(3), NONE, |u| out.push(u)),
            0,
            "tickets restart per packet"
        );
    }
}

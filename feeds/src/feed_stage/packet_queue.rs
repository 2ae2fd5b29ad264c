//! The `packet` policy's hold on urgent updates (prints, status changes) until it is known
//! whether they are the last update of their instrument in their packet.
//!
//! An urgent update goes in as it happens; a later update of the same instrument in the same
//! packet marks it [`BookUpdate::more_in_packet`], and from the front every update so marked
//! goes out at once (its flag is final). At the packet's end the rest goes out: those not
//! marked are their instrument's last. The order out is the order in: the consumer sees the
//! same updates in the same sequence as if each went out as it happened, only later, with
//! the flag set.

use kestrel_core::BookUpdate;

/// No update of the instrument is held (a ticket no update gets).
pub(super) const NONE: u32 = u32::MAX;

/// Updates held within one packet, in arrival order; each named by its ticket (0, 1, 2, ...
/// from the packet's first held update), which is also its slot: a packet's updates are
/// written in place into `slots[ticket]` (no copy in) and the slots are reused by the next
/// packet.
#[derive(Debug)]
pub(super) struct PacketQueue {
    /// `slots[sent..pushed]` are held; the vector grows (once) only for a packet holding more
    /// updates than any before it.
    slots: Vec<BookUpdate>,
    /// Tickets handed out in this packet (the next one's number).
    pushed: u32,
    /// Updates sent from the front in this packet (the front's ticket).
    sent: u32,
}

impl PacketQueue {
    /// Room for `capacity` updates held in one packet before the queue grows (a packet with
    /// more urgent updates than that grows it once).
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: vec![BookUpdate::default(); capacity],
            pushed: 0,
            sent: 0,
        }
    }

    /// Nothing held.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.sent == self.pushed
    }

    /// Marks the held update `ticket` as followed by a later update of its instrument in this
    /// packet (`NONE`, or an update already sent: nothing to do).
    #[inline]
    pub(super) fn mark_followed(&mut self, ticket: u32) {
        if ticket == NONE || ticket < self.sent || ticket >= self.pushed {
            return;
        }
        if let Some(u) = self.slots.get_mut(ticket as usize) {
            u.more_in_packet = true;
        }
    }

    /// Holds the update `fill` writes into its slot (its instrument's previous held update,
    /// `previous`, is marked followed) and sends every update at the front whose flag is now
    /// final through `send`, in its slot (the slot is free once sent: `send` may write into
    /// it). Returns the new update's ticket.
    #[inline]
    pub(super) fn push_with(
        &mut self,
        previous: u32,
        fill: impl FnOnce(&mut BookUpdate),
        mut send: impl FnMut(&mut BookUpdate),
    ) -> u32 {
        self.mark_followed(previous);
        let ticket = self.pushed;
        let at = ticket as usize;
        if at >= self.slots.len() {
            self.grow();
        }
        if let Some(slot) = self.slots.get_mut(at) {
            fill(slot);
        }
        self.pushed += 1;
        while let Some(front) = self.slots.get_mut(self.sent as usize) {
            if self.sent == self.pushed || !front.more_in_packet {
                break;
            }
            send(front);
            self.sent += 1;
        }
        ticket
    }

    /// A packet holding more updates than any before it: room for twice as many.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let more = self.slots.len().max(8);
        self.slots
            .resize(self.slots.len() + more, BookUpdate::default());
    }

    /// The packet's end: sends everything still held, in order and in its slot (each update
    /// not marked followed is its instrument's last of the packet), and starts the next
    /// packet's tickets from 0.
    #[inline]
    pub(super) fn end_packet(&mut self, mut send: impl FnMut(&mut BookUpdate)) {
        let (from, to) = (self.sent as usize, self.pushed as usize);
        if let Some(held) = self.slots.get_mut(from..to) {
            for u in held {
                send(u);
            }
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
        // (two slots: long packets grow it, as the property's streams do)
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
                    latest[i] = q.push_with(latest[i], |slot| *slot = u, |u| out.push(*u));
                }
                None => {
                    q.end_packet(|u| out.push(*u));
                    latest = [NONE; 4];
                }
            }
        }
        q.end_packet(|u| out.push(*u));
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
        let t0 = q.push_with(NONE, |slot| *slot = u(1), |u| out.push(*u));
        assert!(out.is_empty(), "the first may be the last: held");
        let t1 = q.push_with(t0, |slot| *slot = u(2), |u| out.push(*u));
        assert_eq!(out.len(), 1);
        assert!(out[0].more_in_packet);
        // A later non-held update (the packet's flush) marks the held one.
        q.mark_followed(t1);
        q.end_packet(|u| out.push(*u));
        assert_eq!(
            out.iter()
                .map(|u| (u.seq, u.more_in_packet))
                .collect::<Vec<_>>(),
            [(1, true), (2, true)]
        );
        assert!(q.is_empty());
        assert_eq!(
            q.push_with(NONE, |slot| *slot = u(3), |u| out.push(*u)),
            0,
            "tickets restart per packet"
        );
    }
}

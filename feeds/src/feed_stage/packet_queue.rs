//! The `packet` policy's hold on urgent updates (prints, status changes) until it is known
//! whether they are the last update of their instrument in their packet.
//!
//! An urgent update goes in as it happens; a later update of the same instrument in the same
//! packet marks it [`BookUpdate::more_in_packet`]. Everything held goes out at the packet's
//! end, in order: those not marked are their instrument's last. The order out is the order
//! in: the consumer sees the same updates in the same sequence as if each went out as it
//! happened, only later, with the flag set.
//!
//! Nothing goes out before the packet's end, even an update whose flag is already final: the
//! consumer only observes such an update (its decision waits for the instrument's last update,
//! which comes at the packet's end in any case), and an inline run then runs the consumer's
//! code once per packet, after the packet's book work, instead of in the middle of it, where
//! the two did not fit the instruction cache together (docs/BENCHMARKS.md, "the hot loop's
//! code").

use kestrel_core::BookUpdate;

/// No update of the instrument is held (a ticket no update gets).
pub(super) const NONE: u32 = u32::MAX;

/// Updates held within one packet, in arrival order; each named by its ticket (0, 1, 2, ...
/// from the packet's first held update), which is also its slot: a packet's updates are
/// written in place into `slots[ticket]` (no copy in) and the slots are reused by the next
/// packet.
#[derive(Debug)]
pub(super) struct PacketQueue {
    /// `slots[..pushed]` are held; the vector grows (once) only for a packet holding more
    /// updates than any before it.
    slots: Vec<BookUpdate>,
    /// Tickets handed out in this packet (the next one's number).
    pushed: u32,
}

impl PacketQueue {
    /// Room for `capacity` updates held in one packet before the queue grows (a packet with
    /// more urgent updates than that grows it once).
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: vec![BookUpdate::default(); capacity],
            pushed: 0,
        }
    }

    /// Nothing held.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Marks the held update `ticket` as followed by a later update of its instrument in this
    /// packet (`NONE`: nothing to do).
    #[inline]
    pub(super) fn mark_followed(&mut self, ticket: u32) {
        if ticket >= self.pushed {
            return;
        }
        if let Some(u) = self.slots.get_mut(ticket as usize) {
            u.more_in_packet = true;
        }
    }

    /// Holds the update `fill` writes into its slot (its instrument's previous held update,
    /// `previous`, is marked followed). Returns the new update's ticket.
    #[inline]
    pub(super) fn push_with(&mut self, previous: u32, fill: impl FnOnce(&mut BookUpdate)) -> u32 {
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

    /// The packet's end: sends everything held, in order and in its slot (each update not
    /// marked followed is its instrument's last of the packet), and starts the next packet's
    /// tickets from 0.
    #[inline]
    pub(super) fn end_packet(&mut self, mut send: impl FnMut(&mut BookUpdate)) {
        if let Some(held) = self.slots.get_mut(..self.pushed as usize) {
            for u in held {
                send(u);
            }
        }
        self.pushed = 0;
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
                    latest[i] = q.push_with(latest[i], |slot| *slot = u);
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
    fn a_single_instruments_updates_go_out_at_the_packets_end() {
        let mut q = PacketQueue::with_capacity(4);
        let mut out = Vec::new();
        let u = |seq| BookUpdate {
            seq,
            ..BookUpdate::default()
        };
        let t0 = q.push_with(NONE, |slot| *slot = u(1));
        let t1 = q.push_with(t0, |slot| *slot = u(2));
        let t2 = q.push_with(t1, |slot| *slot = u(3));
        // Nothing goes out before the packet's end, the updates already flagged included.
        q.end_packet(|u| out.push((u.seq, u.more_in_packet)));
        assert_eq!(out, [(1, true), (2, true), (3, false)]);
        assert!(q.is_empty());
        // A later non-held update (the packet's flush) marks the held one.
        out.clear();
        let t = q.push_with(NONE, |slot| *slot = u(4));
        assert_eq!(t, 0, "tickets restart per packet");
        q.mark_followed(t);
        q.mark_followed(t2); // a ticket of the previous packet: not held, nothing to do
        q.end_packet(|u| out.push((u.seq, u.more_in_packet)));
        assert_eq!(out, [(4, true)]);
    }
}

//! Replaying journaled sends into the OMS (the venue messages replay through
//! [`Oms::on_message`] itself).

use super::{NewOrder, Oms};
use crate::journal::SentMeta;
use crate::ouch::ClientMessage;
use kestrel_core::Timestamp;

impl Oms {
    /// Re-applies a journaled send: the order moves exactly as it did when the message was
    /// sent. Returns `false` when the record does not fit the rebuilt state (counted as an
    /// anomaly by the caller).
    pub fn restore_sent(&mut self, meta: &SentMeta, msg: &ClientMessage, at: Timestamp) -> bool {
        match msg {
            ClientMessage::EnterOrder(m) => {
                let Some(parts) = self.tokens.parse(&m.token) else {
                    return false;
                };
                if let Some(slot) = self.slot_of(parts.number) {
                    // A resend after a reconnect: the order exists already.
                    return self.order(slot).is_some_and(|o| o.id == parts.number);
                }
                self.tokens.skip_past(parts.number.saturating_sub(1));
                let req = NewOrder {
                    instrument: parts.instrument,
                    side: parts.side,
                    price: m.price.to_price(),
                    shares: m.shares,
                    tif: m.time_in_force,
                    intent_seq: meta.intent_seq,
                    parent: meta.parent,
                    arrival_mid: meta.arrival_mid,
                };
                matches!(self.new_order(&req, at), Ok((_, sent)) if sent.token == m.token)
            }
            ClientMessage::CancelOrder(m) => {
                let Some(slot) = self
                    .tokens
                    .parse(&m.token)
                    .and_then(|p| self.slot_of(p.number))
                else {
                    return false;
                };
                self.cancel(slot, m.shares).is_ok()
            }
            ClientMessage::ReplaceOrder(m) => {
                let existing = self
                    .tokens
                    .parse(&m.existing_token)
                    .and_then(|p| self.slot_of(p.number));
                let replacement = self.tokens.parse(&m.replacement_token);
                let (Some(slot), Some(rep)) = (existing, replacement) else {
                    return false;
                };
                self.tokens.skip_past(rep.number.saturating_sub(1));
                matches!(self.replace(slot, m.price.to_price(), m.shares), Ok(r) if r.replacement_token == m.replacement_token)
            }
            ClientMessage::ModifyOrder(_) => true,
        }
    }

    /// Re-applies a journaled failed send (undoes what [`Oms::restore_sent`] did).
    pub fn restore_send_failed(&mut self, _meta: &SentMeta, msg: &ClientMessage) -> bool {
        let token = match msg {
            ClientMessage::EnterOrder(m) => &m.token,
            ClientMessage::CancelOrder(m) => &m.token,
            ClientMessage::ReplaceOrder(m) => &m.existing_token,
            ClientMessage::ModifyOrder(_) => return true,
        };
        let Some(slot) = self
            .tokens
            .parse(token)
            .and_then(|p| self.slot_of(p.number))
        else {
            return false;
        };
        match msg {
            ClientMessage::EnterOrder(_) => self.send_failed(slot),
            ClientMessage::CancelOrder(_) => self.cancel_failed(slot),
            ClientMessage::ReplaceOrder(_) => self.replace_failed(slot),
            ClientMessage::ModifyOrder(_) => {}
        }
        true
    }
}

//! The macro that turns one table of field layouts into the zero-copy views, the owned
//! (encodable) structs, the [`Message`](super::Message) enum and [`decode`](super::decode).
//! Keeping the layout in a single table means a view and its encoder cannot disagree.

/// Big-endian conversion of a field value from and to its wire bytes.
pub(crate) trait BeField: Sized {
    /// The wire bytes.
    type Bytes;
    fn from_be(bytes: Self::Bytes) -> Self;
    fn to_be(self) -> Self::Bytes;
}

macro_rules! be_int {
    ($($t:ty),*) => {$(
        impl BeField for $t {
            type Bytes = [u8; core::mem::size_of::<$t>()];
            #[inline(always)]
            fn from_be(bytes: Self::Bytes) -> Self {
                <$t>::from_be_bytes(bytes)
            }
            #[inline(always)]
            fn to_be(self) -> Self::Bytes {
                self.to_be_bytes()
            }
        }
    )*};
}
be_int!(u8, u16, u32, u64);

impl<const W: usize> BeField for [u8; W] {
    type Bytes = [u8; W];
    #[inline(always)]
    fn from_be(bytes: Self::Bytes) -> Self {
        bytes
    }
    #[inline(always)]
    fn to_be(self) -> Self::Bytes {
        self
    }
}

/// Field kind -> Rust type. `a2`/`a4`/`a8` are ASCII alpha fields (left-justified, space
/// padded); prices are raw integers (`u32` Price(4), `u64` Price(8)).
macro_rules! field_ty {
    (u8) => {
        u8
    };
    (u16) => {
        u16
    };
    (u32) => {
        u32
    };
    (u64) => {
        u64
    };
    (a2) => {
        [u8; 2]
    };
    (a4) => {
        [u8; 4]
    };
    (a8) => {
        [u8; 8]
    };
}

/// Field kind -> width in bytes.
macro_rules! field_width {
    (u8) => {
        1
    };
    (u16) => {
        2
    };
    (u32) => {
        4
    };
    (u64) => {
        8
    };
    (a2) => {
        2
    };
    (a4) => {
        4
    };
    (a8) => {
        8
    };
}

macro_rules! itch_messages {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($view:ident, $owned:ident) = $tag:literal, $len:literal {
            $( $(#[doc = $fdoc:literal])* $field:ident: $kind:ident @ $off:literal, )*
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            ///
            /// A zero-copy view over exactly one message's bytes (type byte included); every
            /// accessor is a fixed-offset big-endian load.
            #[derive(Clone, Copy, PartialEq, Eq)]
            pub struct $view<'a>(&'a [u8; $len]);

            impl<'a> $view<'a> {
                /// The type byte.
                pub const TYPE: u8 = $tag;
                /// Total length in bytes, type byte included.
                pub const LEN: usize = $len;

                /// A view over `bytes`, one message of this type: at least its specified length
                /// (bytes beyond it, as a newer protocol revision may append, are ignored).
                #[inline]
                pub fn new(bytes: &'a [u8]) -> Result<Self, ItchError> {
                    let arr = bytes.first_chunk::<$len>().ok_or_else(|| {
                        ItchError::BadLength {
                            offset: 0,
                            msg_type: $tag,
                            expected: $len,
                            actual: bytes.len(),
                        }
                    })?;
                    if arr[0] != $tag {
                        return Err(ItchError::WrongType { offset: 0, expected: $tag, found: arr[0] });
                    }
                    Ok(Self(arr))
                }

                /// The message bytes.
                #[inline]
                pub fn as_bytes(&self) -> &'a [u8; $len] {
                    self.0
                }

                /// Stock locate code (0 for market-wide messages).
                #[inline]
                pub fn stock_locate(&self) -> u16 {
                    u16::from_be_bytes(wire::get::<1, 2, $len>(self.0))
                }

                /// NASDAQ internal tracking number.
                #[inline]
                pub fn tracking_number(&self) -> u16 {
                    u16::from_be_bytes(wire::get::<3, 2, $len>(self.0))
                }

                /// Nanoseconds since midnight (48 bits).
                #[inline]
                pub fn timestamp(&self) -> u64 {
                    wire::u48_from_be(wire::get::<5, 6, $len>(self.0))
                }

                $(
                    $(#[doc = $fdoc])*
                    #[inline]
                    pub fn $field(&self) -> field_ty!($kind) {
                        <field_ty!($kind) as BeField>::from_be(
                            wire::get::<$off, { field_width!($kind) }, $len>(self.0),
                        )
                    }
                )*

                /// The owned, encodable copy of this message.
                pub fn to_msg(&self) -> $owned {
                    $owned {
                        stock_locate: self.stock_locate(),
                        tracking_number: self.tracking_number(),
                        timestamp: self.timestamp(),
                        $( $field: self.$field(), )*
                    }
                }
            }

            impl core::fmt::Debug for $view<'_> {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.debug_struct(stringify!($view))
                        .field("stock_locate", &self.stock_locate())
                        .field("tracking_number", &self.tracking_number())
                        .field("timestamp", &self.timestamp())
                        $( .field(stringify!($field), &self.$field()) )*
                        .finish()
                }
            }

            $(#[doc = $doc])*
            ///
            /// The owned form, for building and encoding messages.
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
            pub struct $owned {
                /// Stock locate code.
                pub stock_locate: u16,
                /// Tracking number.
                pub tracking_number: u16,
                /// Nanoseconds since midnight; must fit 48 bits.
                pub timestamp: u64,
                $( $(#[doc = $fdoc])* pub $field: field_ty!($kind), )*
            }

            impl $owned {
                /// The type byte.
                pub const TYPE: u8 = $tag;
                /// Total length in bytes, type byte included.
                pub const LEN: usize = $len;

                /// Writes the message into the start of `buf`; returns the bytes written.
                pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
                    let available = buf.len();
                    let out = buf
                        .get_mut(..$len)
                        .and_then(|s| <&mut [u8; $len]>::try_from(s).ok())
                        .ok_or(EncodeError::BufferTooSmall { needed: $len, available })?;
                    *out = self.to_bytes()?;
                    Ok($len)
                }

                /// The message as a fixed-size array.
                pub fn to_bytes(&self) -> Result<[u8; $len], EncodeError> {
                    if self.timestamp > wire::MAX_TIMESTAMP {
                        return Err(EncodeError::TimestampOutOfRange(self.timestamp));
                    }
                    let mut out = [0u8; $len];
                    out[0] = $tag;
                    wire::put::<1, 2, $len>(&mut out, self.stock_locate.to_be_bytes());
                    wire::put::<3, 2, $len>(&mut out, self.tracking_number.to_be_bytes());
                    wire::put::<5, 6, $len>(&mut out, wire::u48_to_be(self.timestamp));
                    $(
                        wire::put::<$off, { field_width!($kind) }, $len>(
                            &mut out,
                            BeField::to_be(self.$field),
                        );
                    )*
                    Ok(out)
                }
            }
        )*

        /// One decoded ITCH 5.0 message: a zero-copy view of its type. 16 bytes, `Copy`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Message<'a> {
            $( $(#[doc = $doc])* $variant($view<'a>), )*
        }

        impl<'a> Message<'a> {
            /// The message type.
            #[inline]
            pub fn msg_type(&self) -> MessageType {
                match self {
                    $( Message::$variant(_) => MessageType::$variant, )*
                }
            }

            /// The message bytes, type byte included.
            #[inline]
            pub fn as_bytes(&self) -> &'a [u8] {
                match self {
                    $( Message::$variant(v) => v.as_bytes(), )*
                }
            }

            /// Stock locate code (0 for market-wide messages).
            #[inline]
            pub fn stock_locate(&self) -> u16 {
                match self {
                    $( Message::$variant(v) => v.stock_locate(), )*
                }
            }

            /// Tracking number.
            #[inline]
            pub fn tracking_number(&self) -> u16 {
                match self {
                    $( Message::$variant(v) => v.tracking_number(), )*
                }
            }

            /// Nanoseconds since midnight.
            #[inline]
            pub fn timestamp(&self) -> u64 {
                match self {
                    $( Message::$variant(v) => v.timestamp(), )*
                }
            }

            /// The owned, encodable copy.
            pub fn to_msg(&self) -> OwnedMessage {
                match self {
                    $( Message::$variant(v) => OwnedMessage::$variant(v.to_msg()), )*
                }
            }
        }

        /// The owned form of any ITCH 5.0 message.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum OwnedMessage {
            $( $(#[doc = $doc])* $variant($owned), )*
        }

        impl OwnedMessage {
            /// Writes the message into the start of `buf`; returns the bytes written.
            pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
                match self {
                    $( OwnedMessage::$variant(m) => m.encode(buf), )*
                }
            }

            /// The message type.
            pub fn msg_type(&self) -> MessageType {
                match self {
                    $( OwnedMessage::$variant(_) => MessageType::$variant, )*
                }
            }
        }

        /// Decodes one message. `bytes` is one message as its framing delimits it (the MoldUDP64
        /// message block length, the file's length prefix): at least the specified length of
        /// its type. Bytes beyond that length are ignored (a later revision of the protocol may
        /// append fields; the framing's length is authoritative); fewer are an error. Errors
        /// carry offset 0 (the start of `bytes`).
        ///
        /// Always inlined: in a decode loop the `Result` then never exists in memory and the
        /// type dispatch merges with the caller's own `match` on the message.
        #[inline(always)]
        pub fn decode(bytes: &[u8]) -> Result<Message<'_>, ItchError> {
            let Some(&msg_type) = bytes.first() else {
                return Err(ItchError::Empty { offset: 0 });
            };
            match msg_type {
                $(
                    $tag => match bytes.first_chunk::<$len>() {
                        Some(arr) => Ok(Message::$variant($view(arr))),
                        None => Err(ItchError::BadLength {
                            offset: 0,
                            msg_type,
                            expected: $len,
                            actual: bytes.len(),
                        }),
                    },
                )*
                _ => Err(ItchError::UnknownType { offset: 0, msg_type }),
            }
        }

        #[cfg(test)]
        pub(crate) mod layout {
            /// `(type, length, [(field offset, width)])` for every message, from the table.
            pub(crate) const LAYOUTS: &[(u8, usize, &[(usize, usize)])] = &[
                $( ($tag, $len, &[ $( ($off, field_width!($kind)), )* ]), )*
            ];
        }
    };
}

//! The macro that turns one table of field layouts per direction into the zero-copy views, the
//! owned (encodable) structs, the message enums and the decoder. One table per message means a
//! view and its encoder cannot disagree, and a unit test checks that each table tiles its
//! message exactly.

/// Field kind -> Rust type.
macro_rules! ouch_ty {
    (u8) => {
        u8
    };
    (u32) => {
        u32
    };
    (u64) => {
        u64
    };
    (price) => {
        $crate::ouch::types::Price4
    };
    (token) => {
        $crate::ouch::types::Token
    };
    (stock) => {
        $crate::ouch::types::Stock
    };
    (firm) => {
        $crate::ouch::types::Firm
    };
    (side) => {
        $crate::ouch::types::BuySell
    };
    (iso) => {
        $crate::ouch::types::IsoEligibility
    };
    (state) => {
        $crate::ouch::types::OrderState
    };
    (event) => {
        $crate::ouch::types::EventCode
    };
}

/// Field kind -> width in bytes.
macro_rules! ouch_w {
    (u8) => {
        1
    };
    (u32) => {
        4
    };
    (u64) => {
        8
    };
    (price) => {
        4
    };
    (token) => {
        14
    };
    (stock) => {
        8
    };
    (firm) => {
        4
    };
    (side) => {
        1
    };
    (iso) => {
        1
    };
    (state) => {
        1
    };
    (event) => {
        1
    };
}

macro_rules! ouch_messages {
    (
        $(#[doc = $edoc:literal])*
        $direction:literal, $views:ident, $msgs:ident;
        $(
            $(#[doc = $doc:literal])*
            $variant:ident($view:ident, $owned:ident) = $tag:literal, $len:literal {
                $( $(#[doc = $fdoc:literal])* $field:ident: $kind:ident @ $off:literal, )*
            }
        )*
    ) => {
        $(
            $(#[doc = $doc])*
            ///
            /// A zero-copy view over exactly one message's bytes (type byte included). Coded
            /// fields were validated when the view was made; every accessor is a fixed-offset
            /// load.
            #[derive(Clone, Copy, PartialEq, Eq)]
            pub struct $view<'a>(&'a [u8; $len]);

            impl<'a> $view<'a> {
                /// The type byte.
                pub const TYPE: u8 = $tag;
                /// Total length in bytes, type byte included.
                pub const LEN: usize = $len;

                /// A view over `bytes`, which must be exactly one message of this type.
                #[inline]
                pub fn new(bytes: &'a [u8]) -> Result<Self, OuchError> {
                    let arr = <&'a [u8; $len]>::try_from(bytes).map_err(|_| OuchError::BadLength {
                        msg_type: $tag,
                        expected: $len,
                        actual: bytes.len(),
                    })?;
                    if arr[0] != $tag {
                        return Err(OuchError::WrongType { expected: $tag, found: arr[0] });
                    }
                    $(
                        if let Err(InvalidCode(value)) = <ouch_ty!($kind) as WireField>::from_wire(
                            wire::get::<$off, { ouch_w!($kind) }, $len>(arr),
                        ) {
                            return Err(OuchError::BadField {
                                msg_type: $tag,
                                field: stringify!($field),
                                offset: $off,
                                value,
                            });
                        }
                    )*
                    Ok(Self(arr))
                }

                /// The message bytes.
                #[inline]
                pub fn as_bytes(&self) -> &'a [u8; $len] {
                    self.0
                }

                $(
                    $(#[doc = $fdoc])*
                    #[inline]
                    pub fn $field(&self) -> ouch_ty!($kind) {
                        <ouch_ty!($kind) as WireField>::from_wire(
                            wire::get::<$off, { ouch_w!($kind) }, $len>(self.0),
                        )
                        .unwrap_or(<ouch_ty!($kind) as WireField>::PLACEHOLDER)
                    }
                )*

                /// The owned copy of this message.
                #[inline]
                pub fn to_msg(&self) -> $owned {
                    $owned { $( $field: self.$field(), )* }
                }
            }

            impl core::fmt::Debug for $view<'_> {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    core::fmt::Debug::fmt(&self.to_msg(), f)
                }
            }

            $(#[doc = $doc])*
            ///
            /// The owned form, for building and encoding.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct $owned {
                $( $(#[doc = $fdoc])* pub $field: ouch_ty!($kind), )*
            }

            impl $owned {
                /// The type byte.
                pub const TYPE: u8 = $tag;
                /// Total length in bytes, type byte included.
                pub const LEN: usize = $len;

                /// Writes the message into exactly its length of bytes.
                #[inline]
                pub fn write(&self, out: &mut [u8; $len]) {
                    out[0] = $tag;
                    $( wire::put::<$off, { ouch_w!($kind) }, $len>(out, <ouch_ty!($kind) as WireField>::to_wire(self.$field)); )*
                }

                /// Encodes the message at the start of `buf`; returns its length.
                #[inline]
                pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
                    let available = buf.len();
                    let out = buf
                        .get_mut(..$len)
                        .and_then(|s| <&mut [u8; $len]>::try_from(s).ok())
                        .ok_or(EncodeError::BufferTooSmall { needed: $len, available })?;
                    self.write(out);
                    Ok($len)
                }
            }
        )*

        $(#[doc = $edoc])*
        ///
        /// Zero-copy views, one variant per message type.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $views<'a> {
            $( $(#[doc = $doc])* $variant($view<'a>), )*
        }

        impl<'a> $views<'a> {
            /// Decodes one message (type byte first, nothing after it).
            #[inline]
            pub fn decode(bytes: &'a [u8]) -> Result<Self, OuchError> {
                match bytes.first() {
                    None => Err(OuchError::Empty),
                    $( Some(&$tag) => $view::new(bytes).map($views::$variant), )*
                    Some(&other) => Err(OuchError::UnknownType { msg_type: other, direction: $direction }),
                }
            }

            /// The owned copy.
            #[inline]
            pub fn to_msg(&self) -> $msgs {
                match self {
                    $( $views::$variant(v) => $msgs::$variant(v.to_msg()), )*
                }
            }

            /// The message bytes.
            pub fn as_bytes(&self) -> &'a [u8] {
                match self {
                    $( $views::$variant(v) => v.as_bytes(), )*
                }
            }
        }

        $(#[doc = $edoc])*
        ///
        /// Owned messages, one variant per message type.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $msgs {
            $( $(#[doc = $doc])* $variant($owned), )*
        }

        impl $msgs {
            /// The type byte.
            pub const fn msg_type(&self) -> u8 {
                match self {
                    $( $msgs::$variant(_) => $tag, )*
                }
            }

            /// Encoded length in bytes.
            pub const fn encoded_len(&self) -> usize {
                match self {
                    $( $msgs::$variant(_) => $len, )*
                }
            }

            /// Encodes the message at the start of `buf`; returns its length.
            #[inline]
            pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
                match self {
                    $( $msgs::$variant(m) => m.encode(buf), )*
                }
            }
        }

        $( impl From<$owned> for $msgs {
            fn from(m: $owned) -> Self {
                $msgs::$variant(m)
            }
        } )*

        /// Every layout of this direction: (type, length, [(field, offset, width)]), for the
        /// tiling test and documentation tools.
        #[cfg(test)]
        pub(crate) const LAYOUTS: &[(u8, usize, &[(&str, usize, usize)])] = &[
            $( ($tag, $len, &[ $( (stringify!($field), $off, ouch_w!($kind)), )* ]), )*
        ];
    };
}

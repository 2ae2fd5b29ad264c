//! SoupBinTCP 3.00 golden tests: every packet type against bytes laid out by hand from the
//! specification (two-byte big-endian length of type + payload, type byte, payload; alpha
//! left-justified, session and numeric fields right-justified, space padded).

use kestrel_gateway::soupbin::{
    ClientPacket, EncodeError, LoginAccepted, LoginRequest, Password, RecvBuffer, RejectReason,
    ServerPacket, SessionId, SoupError, Username, encode_data, next_packet,
};

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn encode_server(p: &ServerPacket<'_>) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = p.encode(&mut buf).unwrap();
    buf[..n].to_vec()
}

fn encode_client(p: &ClientPacket<'_>) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let n = p.encode(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn login_request() {
    let expected = cat(&[
        &[0x00, 0x2F],           // length: 1 + 46 = 47
        b"L",                    // Login Request
        b"KSTRL ",               // Username (6, left-justified)
        b"s3cret    ",           // Password (10, left-justified)
        b"          ",           // Requested Session (10): blank = current session
        b"                   1", // Requested Sequence Number (20, right-justified)
    ]);
    assert_eq!(expected.len(), 49);
    let p = ClientPacket::LoginRequest(LoginRequest {
        username: Username::new("KSTRL").unwrap(),
        password: Password::new("s3cret").unwrap(),
        session: SessionId::BLANK,
        sequence: 1,
    });
    assert_eq!(encode_client(&p), expected);
    assert_eq!(ClientPacket::decode(&expected).unwrap(), p);
}

#[test]
fn login_request_with_session_and_large_sequence() {
    let expected = cat(&[
        &[0x00, 0x2F],
        b"L",
        b"ABCDEF",
        b"0123456789",
        b"  SESSION1",           // right-justified
        b"        123456789012", // 12 digits, right-justified
    ]);
    let p = ClientPacket::LoginRequest(LoginRequest {
        username: Username::new("ABCDEF").unwrap(),
        password: Password::new("0123456789").unwrap(),
        session: SessionId::new("SESSION1").unwrap(),
        sequence: 123_456_789_012,
    });
    assert_eq!(encode_client(&p), expected);
    assert_eq!(ClientPacket::decode(&expected).unwrap(), p);
}

#[test]
fn login_accepted() {
    let expected = cat(&[
        &[0x00, 0x1F],           // 1 + 30
        b"A",                    // Login Accepted
        b"     S0001",           // Session (10, right-justified)
        b"                  42", // Sequence Number of the next message (20)
    ]);
    let p = ServerPacket::LoginAccepted(LoginAccepted {
        session: SessionId::new("S0001").unwrap(),
        sequence: 42,
    });
    assert_eq!(encode_server(&p), expected);
    assert_eq!(ServerPacket::decode(&expected).unwrap(), p);
}

#[test]
fn login_accepted_from_a_left_justified_peer_reads_the_same() {
    let lenient = cat(&[&[0x00, 0x1F], b"A", b"S0001     ", b"42                  "]);
    let ServerPacket::LoginAccepted(a) = ServerPacket::decode(&lenient).unwrap() else {
        panic!("not a login accepted");
    };
    assert_eq!(a.session, SessionId::new("S0001").unwrap());
    assert_eq!(a.sequence, 42);
}

#[test]
fn login_rejected_codes() {
    for (reason, code) in [
        (RejectReason::NotAuthorized, b'A'),
        (RejectReason::SessionNotAvailable, b'S'),
    ] {
        let expected = vec![0x00, 0x02, b'J', code];
        let p = ServerPacket::LoginRejected(reason);
        assert_eq!(encode_server(&p), expected);
        assert_eq!(ServerPacket::decode(&expected).unwrap(), p);
    }
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x02, b'J', b'X']),
        Err(SoupError::BadRejectReason(b'X'))
    );
}

#[test]
fn data_packets_and_empty_packets() {
    let payload = b"hello";
    let seq = cat(&[&[0x00, 0x06], b"S", payload]);
    assert_eq!(encode_server(&ServerPacket::SequencedData(payload)), seq);
    assert_eq!(
        ServerPacket::decode(&seq).unwrap(),
        ServerPacket::SequencedData(payload)
    );
    let unseq = cat(&[&[0x00, 0x06], b"U", payload]);
    assert_eq!(
        encode_client(&ClientPacket::UnsequencedData(payload)),
        unseq
    );
    assert_eq!(
        ClientPacket::decode(&unseq).unwrap(),
        ClientPacket::UnsequencedData(payload)
    );
    let debug = cat(&[&[0x00, 0x03], b"+", b"hi"]);
    assert_eq!(encode_server(&ServerPacket::Debug(b"hi")), debug);
    assert_eq!(encode_client(&ClientPacket::Debug(b"hi")), debug);

    assert_eq!(encode_server(&ServerPacket::Heartbeat), [0x00, 0x01, b'H']);
    assert_eq!(
        encode_server(&ServerPacket::EndOfSession),
        [0x00, 0x01, b'Z']
    );
    assert_eq!(encode_client(&ClientPacket::Heartbeat), [0x00, 0x01, b'R']);
    assert_eq!(
        encode_client(&ClientPacket::LogoutRequest),
        [0x00, 0x01, b'O']
    );
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x01, b'H']).unwrap(),
        ServerPacket::Heartbeat
    );
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x01, b'Z']).unwrap(),
        ServerPacket::EndOfSession
    );
    assert_eq!(
        ClientPacket::decode(&[0x00, 0x01, b'R']).unwrap(),
        ClientPacket::Heartbeat
    );
    assert_eq!(
        ClientPacket::decode(&[0x00, 0x01, b'O']).unwrap(),
        ClientPacket::LogoutRequest
    );
}

#[test]
fn encode_data_writes_the_header_in_place() {
    let mut buf = [0u8; 8];
    let payload = encode_data(&mut buf, b'U', 5).unwrap();
    payload.copy_from_slice(b"abcde");
    assert_eq!(buf, [0x00, 0x06, b'U', b'a', b'b', b'c', b'd', b'e']);
    assert_eq!(
        encode_data(&mut buf, b'U', 6).unwrap_err(),
        EncodeError::BufferTooSmall {
            needed: 9,
            available: 8
        }
    );
    let mut big = vec![0u8; 70_000];
    assert_eq!(
        encode_data(&mut big, b'U', 65_535).unwrap_err(),
        EncodeError::PayloadTooLong(65_535)
    );
}

#[test]
fn malformed_packets_are_typed_errors() {
    // Direction: a client packet type where a server packet is expected, and the reverse.
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x01, b'R']),
        Err(SoupError::UnknownType {
            packet_type: b'R',
            direction: "server"
        })
    );
    assert_eq!(
        ClientPacket::decode(&[0x00, 0x01, b'H']),
        Err(SoupError::UnknownType {
            packet_type: b'H',
            direction: "client"
        })
    );
    // A heartbeat with a payload.
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x02, b'H', 0]),
        Err(SoupError::BadLength {
            packet_type: b'H',
            expected: 0,
            actual: 1
        })
    );
    // A login accepted one byte short.
    let short = cat(&[&[0x00, 0x1E], b"A", b"     S0001", b"                  4"]);
    assert!(matches!(
        ServerPacket::decode(&short),
        Err(SoupError::BadLength {
            packet_type: b'A',
            expected: 30,
            actual: 29
        })
    ));
    // A sequence number with a letter in it.
    let bad = cat(&[&[0x00, 0x1F], b"A", b"     S0001", b"                  4x"]);
    assert_eq!(
        ServerPacket::decode(&bad),
        Err(SoupError::BadNumeric {
            field: "sequence number",
            index: 19
        })
    );
    // Length field disagrees with the slice; zero length.
    assert!(matches!(
        ServerPacket::decode(&[0x00, 0x05, b'S', 1]),
        Err(SoupError::Truncated { .. })
    ));
    assert_eq!(
        ServerPacket::decode(&[0x00, 0x00]),
        Err(SoupError::ZeroLength { offset: 0 })
    );
    // A password with a control byte.
    let mut login = cat(&[
        &[0x00, 0x2F],
        b"L",
        b"KSTRL ",
        b"s3cret    ",
        b"          ",
        b"                   1",
    ]);
    login[10] = 0x07;
    assert_eq!(
        ClientPacket::decode(&login),
        Err(SoupError::BadAlpha { field: "password" })
    );
}

#[test]
fn password_never_shows_in_debug_output() {
    let p = ClientPacket::LoginRequest(LoginRequest {
        username: Username::new("KSTRL").unwrap(),
        password: Password::new("hunter2").unwrap(),
        session: SessionId::BLANK,
        sequence: 0,
    });
    let shown = format!("{p:?} {p:#?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("redacted"));
    assert!(
        Password::new("hunter2")
            .unwrap()
            .matches(&Password::new("hunter2").unwrap())
    );
    assert!(
        !Password::new("hunter2")
            .unwrap()
            .matches(&Password::new("hunter3").unwrap())
    );
}

#[test]
fn framing_splits_and_joins_packets_as_tcp_delivers_them() {
    let mut stream = Vec::new();
    stream.extend_from_slice(&encode_server(&ServerPacket::Heartbeat));
    stream.extend_from_slice(&encode_server(&ServerPacket::SequencedData(b"abc")));
    stream.extend_from_slice(&encode_server(&ServerPacket::EndOfSession));
    assert_eq!(next_packet(&stream[..1]), Ok(None));
    assert_eq!(next_packet(&stream[..2]), Ok(None));
    assert_eq!(next_packet(&stream), Ok(Some(&stream[..3])));

    // Byte by byte through the receive buffer: every packet comes out whole, once.
    let mut rb = RecvBuffer::new(0);
    let mut got = Vec::new();
    for b in &stream {
        rb.extend_from_slice(std::slice::from_ref(b));
        while let Some(p) = rb.next_packet().unwrap() {
            got.push(ServerPacket::decode(p).unwrap().packet_type());
        }
    }
    assert_eq!(got, [b'H', b'S', b'Z']);
    assert!(rb.is_empty());
    assert_eq!(rb.stream_offset(), stream.len() as u64);

    // A zero length field stops the stream with its offset.
    rb.extend_from_slice(&[0x00, 0x00, 0x00]);
    assert_eq!(
        rb.next_packet(),
        Err(SoupError::ZeroLength {
            offset: stream.len()
        })
    );
}

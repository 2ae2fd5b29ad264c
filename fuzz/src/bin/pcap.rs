//! AFL++ target `pcap`: see `kestrel_tests::fuzz::pcap`.

fn main() {
    afl::fuzz!(|data: &[u8]| kestrel_tests::fuzz::pcap(data));
}

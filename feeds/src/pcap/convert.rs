//! pcap / pcapng -> `.kcap` (for `kestrel import pcap`).

use std::io::Write;
use std::path::Path;

use super::channel::ChannelMap;
use super::error::PcapError;
use super::reader::{PcapCapture, PcapStats};
use crate::kcap::{KcapHeader, KcapWriter};

/// How many error messages a [`ConvertReport`] keeps.
pub const MAX_REPORTED_ERRORS: usize = 16;

/// Outcome of a conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvertReport {
    /// Records written.
    pub records: u64,
    /// Reader counters (frames, skips by reason, errors).
    pub stats: PcapStats,
    /// Frames that produced an error (skipped).
    pub errors: u64,
    /// The first [`MAX_REPORTED_ERRORS`] error messages.
    pub first_errors: Vec<String>,
}

/// Converts the capture at `input` into a `.kcap` at `output` with `header`. Undecodable frames
/// are skipped and reported; only I/O and header errors fail the conversion.
pub fn pcap_to_kcap(
    input: impl AsRef<Path>,
    output: impl AsRef<Path>,
    header: &KcapHeader,
    channels: &ChannelMap,
) -> Result<ConvertReport, PcapError> {
    let capture = PcapCapture::open(input)?;
    let mut writer = KcapWriter::create(output, header)?;
    let report = copy_records(&capture, channels, &mut writer)?;
    writer.finish()?;
    Ok(report)
}

/// Writes every UDP record of `capture` to `writer` (which the caller finishes).
pub fn copy_records<W: Write>(
    capture: &PcapCapture,
    channels: &ChannelMap,
    writer: &mut KcapWriter<W>,
) -> Result<ConvertReport, PcapError> {
    let mut report = ConvertReport::default();
    let mut records = capture.records(channels);
    for item in records.by_ref() {
        match item {
            Ok(record) => {
                writer.write_record(&record)?;
                report.records += 1;
            }
            Err(e) => {
                report.errors += 1;
                if report.first_errors.len() < MAX_REPORTED_ERRORS {
                    report.first_errors.push(e.to_string());
                }
            }
        }
    }
    report.stats = records.stats();
    Ok(report)
}

//! `kestrel verify binance`, `import binance|dbn`, `replay` of the results and `export`, end to
//! end on the bundled captures; the Parquet tables are read back with the parquet crate.

use std::fs::File;
use std::path::PathBuf;

use arrow_array::{Array, Int64Array, StringArray, TimestampNanosecondArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

mod common;

use common::{DATA, kestrel, last_line, stdout};

#[test]
fn verify_binance_spot_and_futures() {
    for (file, checks) in [
        ("spot_btcusdt_20240808.gz", 564),
        ("usdm_btcusdt_20240808.gz", 629),
    ] {
        let o = kestrel(&[
            "verify",
            "binance",
            "--in",
            &format!("{DATA}/binance/{file}"),
        ]);
        assert!(
            o.status.success(),
            "{file}: {}{}",
            stdout(&o),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            last_line(&o),
            format!("checks={checks} mismatched=0 gaps=0")
        );
    }
}

#[test]
fn verify_binance_fails_on_a_corrupted_capture() {
    // Halve one ask quantity in a depth diff after the snapshot: the book goes wrong where
    // tickers can see it, and the exit status says so.
    let bytes = kestrel_feeds::binance::capture::read_capture_file(std::path::Path::new(&format!(
        "{DATA}/binance/spot_btcusdt_20240808.gz"
    )))
    .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut out = String::new();
    let mut changed = 0;
    for (i, line) in text.lines().enumerate() {
        if i > 200 && changed < 50 && line.contains("depthUpdate") && line.contains(r#""a":[[""#) {
            // Drop the diff's first ask level update.
            let start = line.find(r#""a":[["#).unwrap() + 5;
            let end = start + line[start..].find(']').unwrap() + 1;
            let rest = &line[end..];
            let rest = rest.strip_prefix(',').unwrap_or(rest);
            out.push_str(&line[..start]);
            out.push_str(rest);
            changed += 1;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.txt");
    std::fs::write(&path, out).unwrap();
    let o = kestrel(&["verify", "binance", "--in", path.to_str().unwrap()]);
    assert!(!o.status.success());
    let last = last_line(&o);
    assert!(
        last.starts_with("checks=") && !last.contains("mismatched=0 "),
        "{last}"
    );
}

#[test]
fn import_replay_and_export_binance() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = dir.path().join("spot.kcap");
    let o = kestrel(&[
        "import",
        "binance",
        "--in",
        &format!("{DATA}/binance/spot_btcusdt_20240808.gz"),
        "--out",
        kcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("market=spot messages=41249 snapshots=1"),
        "{}",
        stdout(&o)
    );
    let o = kestrel(&[
        "replay",
        kcap.to_str().unwrap(),
        "--session-dir",
        dir.path().join("session").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let last = last_line(&o);
    assert!(
        last.starts_with("events=41249 anomalies=0 book_hash="),
        "{last}"
    );
    assert!(stdout(&o).contains("gaps=0"));

    // CSV bbo: header, decimal prices, one row per top change.
    let out = dir.path().join("tables");
    let o = kestrel(&[
        "export",
        "bbo",
        kcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("bbo.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ts_event,ts_recv,symbol,bid_px,bid_sz,ask_px,ask_sz")
    );
    // The first row is the snapshot's own book (lastUpdateId 50093239218), shown once the
    // buffered diff 50093239208..=50093239224 bridges it; the bridging diff's row follows.
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &first[2..],
        ["BTCUSDT", "61837.63", "3.78826", "61837.64", "1.54698"]
    );
    let second: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &second[2..],
        ["BTCUSDT", "61837.63", "3.78826", "61837.64", "1.6052"]
    );
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(
        rows.windows(2).all(|w| w[0][3..] != w[1][3..]),
        "a row only when the top changes"
    );

    // Parquet bbo: the same rows, ns timestamps, fixed-point integers with their scale.
    let o = kestrel(&[
        "export",
        "bbo",
        kcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "parquet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(File::open(out.join("bbo.parquet")).unwrap())
            .unwrap();
    let schema = builder.schema().clone();
    assert_eq!(
        schema
            .metadata()
            .get("kestrel.price_scale")
            .map(String::as_str),
        Some("8")
    );
    let mut n = 0;
    let mut first_px = None;
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        let ts = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        let sym = batch
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let bid = batch
            .column(3)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert!(ts.value(0) > 1_700_000_000_000_000_000);
        assert_eq!(sym.value(0), "BTCUSDT");
        first_px.get_or_insert(bid.value(0));
        n += batch.num_rows();
    }
    assert_eq!(n, rows.len());
    assert_eq!(first_px, Some(6_183_763_000_000));

    // LOBSTER files: one pair, as many book rows as messages, non-decreasing times.
    let lob = dir.path().join("lobster");
    let o = kestrel(&[
        "export",
        "lobster",
        kcap.to_str().unwrap(),
        "--out",
        lob.to_str().unwrap(),
        "--levels",
        "5",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&lob)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("BTCUSDT_2024-08-08_") && names[0].ends_with("_message_5.csv"));
    assert!(names[1].ends_with("_orderbook_5.csv"));
    let messages = std::fs::read_to_string(lob.join(&names[0])).unwrap();
    let book = std::fs::read_to_string(lob.join(&names[1])).unwrap();
    assert_eq!(messages.lines().count(), book.lines().count());
    let times: Vec<f64> = messages
        .lines()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(book.lines().all(|l| l.split(',').count() == 20));
}

#[test]
fn import_and_replay_every_dbn_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "test_data.definition.dbn",
        "test_data.mbo.dbn",
        "test_data.mbo.v1.dbn.zst",
        "test_data.mbo.v3.dbn",
        "test_data.mbp-1.dbn",
        "test_data.mbp-10.dbn",
        "test_data.tbbo.dbn",
        "test_data.trades.dbn",
    ] {
        let kcap = dir.path().join(format!("{name}.kcap"));
        let o = kestrel(&[
            "import",
            "dbn",
            "--in",
            &format!("{DATA}/dbn/{name}"),
            "--out",
            kcap.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout(&o).contains("records=2"), "{name}: {}", stdout(&o));
        let o = kestrel(&[
            "replay",
            kcap.to_str().unwrap(),
            "--session-dir",
            dir.path().join(format!("s-{name}")).to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            last_line(&o).starts_with("events=2 "),
            "{name}: {}",
            last_line(&o)
        );
    }
    // MBP-10 export: depth rows with 10 levels a side.
    let kcap = dir.path().join("test_data.mbp-10.dbn.kcap");
    let out = dir.path().join("depth");
    let o = kestrel(&[
        "export",
        "depth",
        kcap.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("depth.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);
    assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 3 + 40);
}

/// Exports `kind` of `kcap` as CSV and as Parquet into `dir`; returns (CSV text, Parquet path).
fn export_both(kcap: &std::path::Path, kind: &str, dir: &std::path::Path) -> (String, PathBuf) {
    let mut files = Vec::new();
    for format in ["csv", "parquet"] {
        let out = dir.join(format!("{kind}-{format}"));
        let o = kestrel(&[
            "export",
            kind,
            kcap.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--levels",
            "5",
            "--format",
            format,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files.push(out.join(format!("{kind}.{format}")));
    }
    (
        std::fs::read_to_string(&files[0]).unwrap(),
        files[1].clone(),
    )
}

/// The Parquet file's column types are the ones pandas and polars turn into the right dtypes:
/// times `INT64 TIMESTAMP(NANOS, UTC)` (-> `datetime64[ns, UTC]` / `Datetime(ns, "UTC")`),
/// fixed-point values plain `INT64` with their scale (8) in the field and schema metadata,
/// symbols `STRING`, aggressor `INT(8, signed)`, match id `INT(64, unsigned)`; and the Arrow
/// schema is embedded (`ARROW:schema`, which both read for the time zone).
fn check_parquet_types(path: &std::path::Path) {
    use parquet::basic::{LogicalType, TimeUnit, Type as Physical};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata().file_metadata();
    let kv = meta.key_value_metadata().expect("key-value metadata");
    assert!(
        kv.iter().any(|k| k.key == "ARROW:schema"),
        "no embedded Arrow schema"
    );
    for c in meta.schema_descr().columns() {
        let (name, physical, logical) = (c.name(), c.physical_type(), c.logical_type_ref());
        match name {
            "ts_event" | "ts_recv" => {
                assert_eq!(physical, Physical::INT64, "{name}");
                assert_eq!(
                    logical,
                    Some(&LogicalType::timestamp(true, TimeUnit::NANOS)),
                    "{name}"
                );
            }
            "symbol" => assert_eq!(logical, Some(&LogicalType::String), "{name}"),
            "aggressor" => assert_eq!(logical, Some(&LogicalType::integer(8, true)), "{name}"),
            "match_id" => assert_eq!(logical, Some(&LogicalType::integer(64, false)), "{name}"),
            _ => {
                assert_eq!(physical, Physical::INT64, "{name}");
                assert!(
                    logical.is_none_or(|l| *l == LogicalType::integer(64, true)),
                    "{name}: {logical:?}"
                );
            }
        }
    }
}

/// Every Parquet row equals its CSV row: the same count, times, symbols, and each decimal of
/// the CSV equal to the Parquet integer at scale 8 (an empty CSV field is a null).
fn check_parquet_matches_csv(csv: &str, path: &std::path::Path) -> usize {
    use arrow_array::{Int8Array, UInt64Array};
    check_parquet_types(path);
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(header, names, "CSV and Parquet columns differ");
    for f in schema.fields().iter().skip(3) {
        if !matches!(f.name().as_str(), "aggressor" | "match_id") {
            assert_eq!(f.metadata().get("scale").map(String::as_str), Some("8"));
        }
    }
    assert_eq!(
        schema
            .metadata()
            .get("kestrel.qty_scale")
            .map(String::as_str),
        Some("8")
    );
    let mut rows = 0;
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        for r in 0..batch.num_rows() {
            let line = lines.next().expect("as many CSV rows as Parquet rows");
            let fields: Vec<&str> = line.split(',').collect();
            for (c, field) in fields.iter().enumerate() {
                let col = batch.column(c);
                let name = names[c];
                let any = col.as_any();
                if let Some(a) = any.downcast_ref::<TimestampNanosecondArray>() {
                    if field.is_empty() {
                        assert!(a.is_null(r), "{name} row {rows}: null expected");
                    } else {
                        assert!(a.is_valid(r), "{name} row {rows}: {field} expected");
                        assert_eq!(a.value(r).to_string(), *field, "{name} row {rows}");
                    }
                } else if let Some(a) = any.downcast_ref::<StringArray>() {
                    assert_eq!(a.value(r), *field, "{name} row {rows}");
                } else if let Some(a) = any.downcast_ref::<Int8Array>() {
                    assert_eq!(a.value(r).to_string(), *field, "{name} row {rows}");
                } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
                    assert_eq!(a.value(r).to_string(), *field, "{name} row {rows}");
                } else {
                    let a = any.downcast_ref::<Int64Array>().expect("fixed-point int64");
                    if field.is_empty() {
                        assert!(a.is_null(r), "{name} row {rows}: null expected");
                    } else {
                        let fixed: kestrel_core::Price = field.parse().unwrap();
                        assert!(a.is_valid(r), "{name} row {rows}: {field} expected");
                        assert_eq!(a.value(r), fixed.raw(), "{name} row {rows}");
                    }
                }
            }
            rows += 1;
        }
    }
    assert!(lines.next().is_none(), "more CSV rows than Parquet rows");
    rows
}

#[test]
fn parquet_tables_have_the_types_pandas_and_polars_read_and_match_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    // Binance spot: BBO, trades and depth.
    let spot = dir.path().join("spot.kcap");
    let o = kestrel(&[
        "import",
        "binance",
        "--in",
        &format!("{DATA}/binance/spot_btcusdt_20240808.gz"),
        "--out",
        spot.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (kind, at_least) in [("bbo", 1_000), ("trades", 1_000), ("depth", 1_000)] {
        let (csv, parquet) = export_both(&spot, kind, dir.path());
        let rows = check_parquet_matches_csv(&csv, &parquet);
        assert!(rows >= at_least, "{kind}: {rows} rows");
    }
    // DBN: MBO (L3) BBO and the trades file, with their own scale (1e-9 prices to 8 decimals).
    for (file, kind, at_least) in [
        ("test_data.mbo.v3.dbn", "bbo", 0),
        ("test_data.trades.dbn", "trades", 2),
        ("test_data.mbp-10.dbn", "depth", 2),
    ] {
        let kcap = dir.path().join(format!("{file}.kcap"));
        let o = kestrel(&[
            "import",
            "dbn",
            "--in",
            &format!("{DATA}/dbn/{file}"),
            "--out",
            kcap.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (csv, parquet) = export_both(&kcap, kind, &dir.path().join(file));
        let rows = check_parquet_matches_csv(&csv, &parquet);
        assert!(rows >= at_least, "{file}: {rows} rows");
    }
}

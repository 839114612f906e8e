//! The Parquet export (the only `parquet` user): one row per network, typed
//! columns, Snappy-compressed, row groups of [`ROW_GROUP`] rows.
//!
//! The schema is [`SCHEMA`]; the module docs of [`super`] describe each
//! column. Lists are Parquet `LIST`s (three-level, as the format's spec
//! and every reader expect), entities a list of structs, dates
//! `TIMESTAMP(MICROS, UTC)`, addresses both as strings and as
//! `UINT32`. Rows are buffered column by column for one row group, then
//! written with their definition and repetition levels.

use std::io::{self, Write};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use super::Row;

/// Rows per row group: large enough for readers to scan fast, small
/// enough to buffer (a few tens of MB).
pub const ROW_GROUP: usize = 50_000;

/// The Parquet schema of the export (`raw` only with `--raw`).
pub const SCHEMA: &str = "message ipcrawl_network {
  required binary handle (STRING);
  required binary start (STRING);
  required binary end (STRING);
  required group cidrs (LIST) { repeated group list { required binary element (STRING); } }
  required int32 start_int (INTEGER(32,false));
  required int32 end_int (INTEGER(32,false));
  optional binary name (STRING);
  optional binary type (STRING);
  optional binary country (STRING);
  required binary registry (STRING);
  optional binary parent_handle (STRING);
  required group status (LIST) { repeated group list { required binary element (STRING); } }
  required group entities (LIST) {
    repeated group list {
      required group element {
        optional binary handle (STRING);
        required group roles (LIST) { repeated group list { required binary element (STRING); } }
        optional binary name (STRING);
        optional binary email (STRING);
      }
    }
  }
  optional int64 registration (TIMESTAMP(MICROS,true));
  optional int64 last_changed (TIMESTAMP(MICROS,true));
  optional binary queried (STRING);
  required binary source_url (STRING);
  optional int64 fetched_at (TIMESTAMP(MICROS,true));
  required boolean placeholder;
";

/// One leaf column's buffered values and levels.
#[derive(Default)]
struct Leaf<T> {
    values: Vec<T>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl<T> Leaf<T> {
    fn clear(&mut self) {
        self.values.clear();
        self.def.clear();
        self.rep.clear();
    }

    /// An optional top-level value (max definition level 1).
    fn push_opt(&mut self, v: Option<T>) {
        match v {
            Some(v) => {
                self.values.push(v);
                self.def.push(1);
            }
            None => self.def.push(0),
        }
    }

    /// A required list of required elements (max def 1, max rep 1).
    fn push_list(&mut self, items: impl IntoIterator<Item = T>) {
        let mut first = true;
        for v in items {
            self.values.push(v);
            self.def.push(1);
            self.rep.push(i16::from(!first));
            first = false;
        }
        if first {
            self.def.push(0);
            self.rep.push(0);
        }
    }
}

fn bytes(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

/// A `u32` in an `INT32` column annotated unsigned: the same bits.
fn u32_bits(v: u32) -> i32 {
    i32::from_ne_bytes(v.to_ne_bytes())
}

/// The buffered columns of one row group, in schema order.
#[derive(Default)]
struct Columns {
    handle: Leaf<ByteArray>,
    start: Leaf<ByteArray>,
    end: Leaf<ByteArray>,
    cidrs: Leaf<ByteArray>,
    start_int: Leaf<i32>,
    end_int: Leaf<i32>,
    name: Leaf<ByteArray>,
    net_type: Leaf<ByteArray>,
    country: Leaf<ByteArray>,
    registry: Leaf<ByteArray>,
    parent_handle: Leaf<ByteArray>,
    status: Leaf<ByteArray>,
    e_handle: Leaf<ByteArray>,
    e_roles: Leaf<ByteArray>,
    e_name: Leaf<ByteArray>,
    e_email: Leaf<ByteArray>,
    registration: Leaf<i64>,
    last_changed: Leaf<i64>,
    queried: Leaf<ByteArray>,
    source_url: Leaf<ByteArray>,
    fetched_at: Leaf<i64>,
    placeholder: Leaf<bool>,
    valid_from: Leaf<i64>,
    valid_until: Leaf<i64>,
    raw: Leaf<ByteArray>,
    rows: usize,
}

impl Columns {
    fn push(&mut self, row: &Row<'_>, history: bool, with_raw: bool, raw: Option<&[u8]>) {
        self.handle.values.push(bytes(row.handle));
        self.start.values.push(bytes(&row.start));
        self.end.values.push(bytes(&row.end));
        self.cidrs.push_list(row.cidrs.iter().map(|c| bytes(c)));
        self.start_int.values.push(u32_bits(row.start_int));
        self.end_int.values.push(u32_bits(row.end_int));
        self.name.push_opt(row.name.map(bytes));
        self.net_type.push_opt(row.net_type.map(bytes));
        self.country.push_opt(row.country.map(bytes));
        self.registry.values.push(bytes(row.registry));
        self.parent_handle.push_opt(row.parent_handle.map(bytes));
        self.status.push_list(row.status.iter().map(|s| bytes(s)));
        self.push_entities(row);
        self.registration.push_opt(row.registration.map(|d| d.0));
        self.last_changed.push_opt(row.last_changed.map(|d| d.0));
        self.queried.push_opt(row.queried.as_deref().map(bytes));
        self.source_url.values.push(bytes(row.source_url));
        self.fetched_at.push_opt(row.fetched_at.map(|d| d.0));
        self.placeholder.values.push(row.placeholder);
        if history {
            let v = row.valid;
            self.valid_from
                .push_opt(v.and_then(|v| v.valid_from).map(|d| d.0));
            self.valid_until
                .push_opt(v.and_then(|v| v.valid_until).map(|d| d.0));
        }
        if with_raw {
            self.raw
                .push_opt(raw.map(|b| bytes(&String::from_utf8_lossy(b))));
        }
        self.rows += 1;
    }

    /// `entities.list.element.{handle, roles.list.element, name, email}`:
    /// the struct's optional fields have max def 2 and rep 1, the roles
    /// def 2 and rep 2.
    fn push_entities(&mut self, row: &Row<'_>) {
        if row.entities.is_empty() {
            for leaf in [
                &mut self.e_handle,
                &mut self.e_roles,
                &mut self.e_name,
                &mut self.e_email,
            ] {
                leaf.def.push(0);
                leaf.rep.push(0);
            }
            return;
        }
        for (j, e) in row.entities.iter().enumerate() {
            let rep = i16::from(j > 0);
            for (leaf, v) in [
                (&mut self.e_handle, e.handle.as_deref()),
                (&mut self.e_name, e.name.as_deref()),
                (&mut self.e_email, e.email.as_deref()),
            ] {
                leaf.rep.push(rep);
                match v {
                    Some(v) => {
                        leaf.values.push(bytes(v));
                        leaf.def.push(2);
                    }
                    None => leaf.def.push(1),
                }
            }
            if e.roles.is_empty() {
                self.e_roles.def.push(1);
                self.e_roles.rep.push(rep);
            }
            for (k, role) in e.roles.iter().enumerate() {
                self.e_roles.values.push(bytes(role));
                self.e_roles.def.push(2);
                self.e_roles.rep.push(if k > 0 { 2 } else { rep });
            }
        }
    }
}

/// Streams rows into a Parquet file.
pub struct Writer<W: Write + Send> {
    file: SerializedFileWriter<W>,
    cols: Box<Columns>,
    raw: bool,
    history: bool,
    group_rows: usize,
}

/// A Parquet error as an I/O error (an I/O error inside keeps its kind).
fn io_err(e: ParquetError) -> io::Error {
    match e {
        ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(other) => io::Error::other(other),
        },
        other => io::Error::other(other),
    }
}

impl<W: Write + Send> Writer<W> {
    /// A writer into `out` (`raw`: with the `raw` column).
    pub fn new(out: W, raw: bool) -> io::Result<Writer<W>> {
        Writer::with_history(out, raw, false)
    }

    /// A writer into `out`; `history`: with the `valid_from` and
    /// `valid_until` columns (previous versions), `raw`: with the `raw` column.
    pub fn with_history(out: W, raw: bool, history: bool) -> io::Result<Writer<W>> {
        let mut text = SCHEMA.to_string();
        if history {
            text.push_str("  optional int64 valid_from (TIMESTAMP(MICROS,true));\n");
            text.push_str("  optional int64 valid_until (TIMESTAMP(MICROS,true));\n");
        }
        if raw {
            text.push_str("  optional binary raw (STRING);\n");
        }
        text.push('}');
        let schema = parquet::schema::parser::parse_message_type(&text).map_err(io_err)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("ipcrawl {}", env!("CARGO_PKG_VERSION")))
            .build();
        let file =
            SerializedFileWriter::new(out, Arc::new(schema), Arc::new(props)).map_err(io_err)?;
        Ok(Writer {
            file,
            cols: Box::default(),
            raw,
            history,
            group_rows: ROW_GROUP,
        })
    }

    /// Buffers one row (`raw`: the stored answer, when the writer has the
    /// column); writes a row group when [`ROW_GROUP`] rows are buffered.
    pub fn push(&mut self, row: &Row<'_>, raw: Option<&[u8]>) -> io::Result<()> {
        self.cols.push(row, self.history, self.raw, raw);
        if self.cols.rows >= self.group_rows {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Rows per row group from now on (tests: several groups from few rows).
    #[cfg(test)]
    pub(crate) fn set_group_rows(&mut self, rows: usize) {
        self.group_rows = rows.max(1);
    }

    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self) -> io::Result<()> {
        if self.cols.rows == 0 {
            return Ok(());
        }
        let c = &mut *self.cols;
        let mut rg = self.file.next_row_group().map_err(io_err)?;
        macro_rules! leaf {
            ($ty:ty, $leaf:expr) => {{
                let l = &$leaf;
                let mut col = rg
                    .next_column()
                    .map_err(io_err)?
                    .ok_or_else(|| io::Error::other("parquet: fewer columns than the schema"))?;
                let def = (!l.def.is_empty()).then_some(&l.def[..]);
                let rep = (!l.rep.is_empty()).then_some(&l.rep[..]);
                col.typed::<$ty>()
                    .write_batch(&l.values, def, rep)
                    .map_err(io_err)?;
                col.close().map_err(io_err)?;
            }};
        }
        leaf!(ByteArrayType, c.handle);
        leaf!(ByteArrayType, c.start);
        leaf!(ByteArrayType, c.end);
        leaf!(ByteArrayType, c.cidrs);
        leaf!(Int32Type, c.start_int);
        leaf!(Int32Type, c.end_int);
        leaf!(ByteArrayType, c.name);
        leaf!(ByteArrayType, c.net_type);
        leaf!(ByteArrayType, c.country);
        leaf!(ByteArrayType, c.registry);
        leaf!(ByteArrayType, c.parent_handle);
        leaf!(ByteArrayType, c.status);
        leaf!(ByteArrayType, c.e_handle);
        leaf!(ByteArrayType, c.e_roles);
        leaf!(ByteArrayType, c.e_name);
        leaf!(ByteArrayType, c.e_email);
        leaf!(Int64Type, c.registration);
        leaf!(Int64Type, c.last_changed);
        leaf!(ByteArrayType, c.queried);
        leaf!(ByteArrayType, c.source_url);
        leaf!(Int64Type, c.fetched_at);
        leaf!(BoolType, c.placeholder);
        if self.history {
            leaf!(Int64Type, c.valid_from);
            leaf!(Int64Type, c.valid_until);
        }
        if self.raw {
            leaf!(ByteArrayType, c.raw);
        }
        rg.close().map_err(io_err)?;
        for l in [
            &mut c.handle,
            &mut c.start,
            &mut c.end,
            &mut c.cidrs,
            &mut c.name,
            &mut c.net_type,
            &mut c.country,
            &mut c.registry,
            &mut c.parent_handle,
            &mut c.status,
            &mut c.e_handle,
            &mut c.e_roles,
            &mut c.e_name,
            &mut c.e_email,
            &mut c.queried,
            &mut c.source_url,
            &mut c.raw,
        ] {
            l.clear();
        }
        c.start_int.clear();
        c.end_int.clear();
        c.registration.clear();
        c.last_changed.clear();
        c.fetched_at.clear();
        c.placeholder.clear();
        c.valid_from.clear();
        c.valid_until.clear();
        c.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_group()?;
        self.file.into_inner().map_err(io_err)
    }
}

//! The dump format of a store snapshot (what a backup holds): a header, then frames,
//! then a trailer that counts them, so a truncated dump is detected.
//!
//! ```text
//! magic "BASALT-DUMP\n" · store format u32 BE · seq u64 BE
//! frame: tag u8 · field count × (len u32 BE · bytes)
//!   1 settings  [json]
//!   2 collection [id, StoredCollection json]
//!   3 record    [collection id, record id, stored value (creation seq ++ encoded)]
//!   0 end       [frames so far u64 BE, records u64 BE]
//! ```

use std::io::{Read, Write};

use crate::StorageError;

pub(crate) const MAGIC: &[u8] = b"BASALT-DUMP\n";
const MAX_FIELD: u32 = 256 << 20;

pub(crate) enum Frame {
    Settings(Vec<u8>),
    Collection {
        id: String,
        json: Vec<u8>,
    },
    Record {
        collection: String,
        id: String,
        value: Vec<u8>,
    },
    End {
        records: u64,
    },
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::Dump(e.to_string())
}

pub(crate) struct DumpWriter<'a> {
    out: &'a mut dyn Write,
    pub frames: u64,
    pub records: u64,
}

impl<'a> DumpWriter<'a> {
    pub fn start(out: &'a mut dyn Write, format: u32, seq: u64) -> Result<Self, StorageError> {
        out.write_all(MAGIC).map_err(io)?;
        out.write_all(&format.to_be_bytes()).map_err(io)?;
        out.write_all(&seq.to_be_bytes()).map_err(io)?;
        Ok(DumpWriter {
            out,
            frames: 0,
            records: 0,
        })
    }

    fn frame(&mut self, tag: u8, fields: &[&[u8]]) -> Result<(), StorageError> {
        self.out.write_all(&[tag]).map_err(io)?;
        for f in fields {
            let len =
                u32::try_from(f.len()).map_err(|_| StorageError::Dump("field too long".into()))?;
            self.out.write_all(&len.to_be_bytes()).map_err(io)?;
            self.out.write_all(f).map_err(io)?;
        }
        self.frames += 1;
        Ok(())
    }

    pub fn settings(&mut self, json: &[u8]) -> Result<(), StorageError> {
        self.frame(1, &[json])
    }

    pub fn collection(&mut self, id: &str, json: &[u8]) -> Result<(), StorageError> {
        self.frame(2, &[id.as_bytes(), json])
    }

    pub fn record(
        &mut self,
        collection: &str,
        id: &[u8],
        value: &[u8],
    ) -> Result<(), StorageError> {
        self.records += 1;
        self.frame(3, &[collection.as_bytes(), id, value])
    }

    pub fn finish(mut self) -> Result<(u64, u64), StorageError> {
        let (frames, records) = (self.frames, self.records);
        self.frame(0, &[&frames.to_be_bytes(), &records.to_be_bytes()])?;
        self.out.flush().map_err(io)?;
        Ok((frames, records))
    }
}

pub(crate) struct DumpReader<'a> {
    input: &'a mut dyn Read,
    pub format: u32,
    pub seq: u64,
    frames: u64,
    done: bool,
}

impl<'a> DumpReader<'a> {
    pub fn open(input: &'a mut dyn Read) -> Result<Self, StorageError> {
        let mut magic = vec![0; MAGIC.len()];
        input.read_exact(&mut magic).map_err(io)?;
        if magic != MAGIC {
            return Err(StorageError::Dump("not a Basalt store dump".into()));
        }
        let mut format = [0; 4];
        input.read_exact(&mut format).map_err(io)?;
        let mut seq = [0; 8];
        input.read_exact(&mut seq).map_err(io)?;
        Ok(DumpReader {
            input,
            format: u32::from_be_bytes(format),
            seq: u64::from_be_bytes(seq),
            frames: 0,
            done: false,
        })
    }

    fn field(&mut self) -> Result<Vec<u8>, StorageError> {
        let mut len = [0; 4];
        self.input.read_exact(&mut len).map_err(io)?;
        let len = u32::from_be_bytes(len);
        if len > MAX_FIELD {
            return Err(StorageError::Dump(format!("field of {len} bytes")));
        }
        let mut buf = vec![0; len as usize];
        self.input.read_exact(&mut buf).map_err(io)?;
        Ok(buf)
    }

    fn text(&mut self) -> Result<String, StorageError> {
        String::from_utf8(self.field()?)
            .map_err(|_| StorageError::Dump("a name is not UTF-8".into()))
    }

    /// The next frame; `None` after the end frame (whose counts were checked).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, StorageError> {
        if self.done {
            return Ok(None);
        }
        let mut tag = [0; 1];
        self.input.read_exact(&mut tag).map_err(|e| {
            StorageError::Dump(format!(
                "the dump ends without its trailer (truncated?): {e}"
            ))
        })?;
        let frame = match tag[0] {
            1 => Frame::Settings(self.field()?),
            2 => Frame::Collection {
                id: self.text()?,
                json: self.field()?,
            },
            3 => Frame::Record {
                collection: self.text()?,
                id: self.text()?,
                value: self.field()?,
            },
            0 => {
                let count = |b: Vec<u8>| -> Result<u64, StorageError> {
                    let raw: [u8; 8] = b
                        .try_into()
                        .map_err(|_| StorageError::Dump("bad trailer".into()))?;
                    Ok(u64::from_be_bytes(raw))
                };
                let frames = count(self.field()?)?;
                let records = count(self.field()?)?;
                if frames != self.frames {
                    return Err(StorageError::Dump(format!(
                        "the trailer counts {frames} frames, the dump has {}",
                        self.frames
                    )));
                }
                self.done = true;
                return Ok(Some(Frame::End { records }));
            }
            t => return Err(StorageError::Dump(format!("unknown frame tag {t}"))),
        };
        self.frames += 1;
        Ok(Some(frame))
    }
}

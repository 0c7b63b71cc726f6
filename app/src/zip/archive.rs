//! The archive as bytes, written by `rawzip` as it goes: each entry's header, its data as it
//! arrives, a data descriptor after it (so no size or checksum is needed up front, and nothing
//! is written twice), and the central directory at the end; ZIP64 where sizes, offsets or the
//! number of entries pass what plain ZIP holds, UTF-8 names. What it writes waits in a
//! [`Spool`] that the caller empties after each step into the file, so memory holds one chunk
//! (and the central directory, a few dozen bytes an entry).

use std::{cell::RefCell, io::Write, rc::Rc};

use rawzip::{ZipArchiveWriter, ZipDataWriter, ZipEntryWriter};

/// The bytes written and not yet taken.
#[derive(Clone, Debug, Default)]
pub struct Spool(Rc<RefCell<Vec<u8>>>);

impl Spool {
    /// Everything written since the last take.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A zip being written, entry after entry.
pub struct Archive {
    zip: ZipArchiveWriter<Spool>,
}

/// One file's data going in.
pub struct Entry<'a> {
    data: ZipDataWriter<ZipEntryWriter<'a, Spool>>,
}

fn failed(err: impl std::fmt::Display) -> String {
    format!("the archive could not be written: {err}")
}

impl Archive {
    pub fn new(spool: Spool) -> Archive {
        Archive {
            zip: ZipArchiveWriter::new(spool),
        }
    }

    /// A folder entry (an S3 folder marker), so an empty folder is kept.
    pub fn folder(&mut self, name: &str, modified: Option<i64>) -> Result<(), String> {
        let mut dir = self.zip.new_dir(name);
        if let Some(secs) = modified {
            dir = dir.last_modified(rawzip::time::UtcDateTime::from_unix(secs));
        }
        dir.create().map(|_| ()).map_err(failed)
    }

    /// Starts a stored file entry.
    pub fn file(&mut self, name: &str, modified: Option<i64>) -> Result<Entry<'_>, String> {
        let mut file = self
            .zip
            .new_file(name)
            .compression_method(rawzip::CompressionMethod::STORE);
        if let Some(secs) = modified {
            file = file.last_modified(rawzip::time::UtcDateTime::from_unix(secs));
        }
        let (entry, config) = file.start().map_err(failed)?;
        Ok(Entry {
            data: config.wrap(entry),
        })
    }

    /// Writes the central directory.
    pub fn finish(self) -> Result<(), String> {
        self.zip.finish().map(|_| ()).map_err(failed)
    }
}

impl Entry<'_> {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.data.write_all(bytes).map_err(failed)
    }

    /// Ends the entry with its size and checksum.
    pub fn finish(self) -> Result<(), String> {
        let (entry, descriptor) = self.data.finish().map_err(failed)?;
        entry.finish(descriptor).map(|_| ()).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (name, bytes; a name ending in `/` is a folder), draining the spool after
    /// every step as the browser does, and returns the whole archive.
    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let spool = Spool::default();
        let mut out = Vec::new();
        let mut archive = Archive::new(spool.clone());
        for (name, bytes) in files {
            match name.ends_with('/') {
                true => archive.folder(name, Some(1_700_000_000)).unwrap(),
                false => {
                    let mut entry = archive.file(name, Some(1_700_000_000)).unwrap();
                    for chunk in bytes.chunks(7) {
                        entry.write(chunk).unwrap();
                        out.extend(spool.take());
                    }
                    entry.finish().unwrap();
                }
            }
            out.extend(spool.take());
        }
        archive.finish().unwrap();
        out.extend(spool.take());
        out
    }

    #[test]
    fn a_streamed_archive_reads_back_byte_for_byte() {
        let files: [(&str, &[u8]); 4] = [
            ("a/東京 😀.txt", b"first file, in a folder"),
            ("empty/", b""),
            ("b+c%<script>.bin", &[0u8, 1, 2, 255, 254]),
            ("zero.txt", b""),
        ];
        let bytes = zip(&files);
        let archive = rawzip::ZipArchive::from_slice(&bytes).unwrap();
        let mut entries = archive.entries();
        let mut read = Vec::new();
        while let Some(entry) = entries.next_entry().unwrap() {
            let name = entry
                .file_path()
                .try_normalize()
                .unwrap()
                .as_ref()
                .to_owned();
            let data = archive.get_entry(entry.wayfinder()).unwrap();
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut data.verifying_reader(data.data()), &mut body).unwrap();
            read.push((name, body));
        }
        let expected: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        assert_eq!(read, expected);
    }
}

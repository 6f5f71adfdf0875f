//! Typst as a library: a letter template (Typst markup) and its data (JSON, read by the
//! template as `json("/data.json")`) become a PDF. Only the bundled fonts are used and no
//! file outside the two is readable, so a template cannot reach the server's disk.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("a fixed, valid path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

// Fixed paths: file ids are interned for the life of the process.
static MAIN: LazyLock<FileId> = LazyLock::new(|| file_id("/letter.typ"));
static DATA: LazyLock<FileId> = LazyLock::new(|| file_id("/data.json"));

struct LetterWorld {
    main: Source,
    data: Bytes,
    today: (i32, u8, u8),
}

impl World for LetterWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }
    fn main(&self) -> FileId {
        *MAIN
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        let (y, m, d) = self.today;
        Datetime::from_ymd(y, m, d)
    }
}

/// Typesets `template` with `data` (JSON) into a PDF. `today` is what the template's
/// `datetime.today()` returns (the letter's date, on the account's clock). A template
/// error is returned as text with its line.
pub fn pdf(template: &str, data: &str, today: (i32, u8, u8)) -> Result<Vec<u8>, String> {
    let world = LetterWorld {
        main: Source::new(*MAIN, template.to_string()),
        data: Bytes::new(data.as_bytes().to_vec()),
        today,
    };
    let result = typst::compile::<PagedDocument>(&world).output;
    // Typst memoises across compilations; keep what recent letters share, drop the rest.
    typst::comemo::evict(10);
    let doc = result.map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let line = WorldExt::range(&world, e.span)
                    .map(|r| world.main.text()[..r.start].lines().count().max(1));
                match line {
                    Some(l) => format!("line {l}: {}", e.message),
                    None => e.message.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_and_its_data_make_a_pdf_whose_text_reads_back() {
        let pdf = pdf(
            "#let d = json(\"/data.json\")\n= Inkassokrav\nOCR: #d.ocr, åäö",
            r#"{"ocr": "20252463478311301072"}"#,
            (2025, 9, 3),
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        assert!(text.contains("20252463478311301072"), "{text}");
        assert!(
            text.contains("Inkassokrav") && text.contains("åäö"),
            "{text}"
        );
    }

    #[test]
    fn template_errors_name_their_line_and_files_stay_out_of_reach() {
        let e = pdf("ok\n#let x = (", "{}", (2025, 9, 3)).unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
        let e = pdf("#read(\"/etc/passwd\")", "{}", (2025, 9, 3)).unwrap_err();
        assert!(e.contains("denied"), "{e}");
    }
}

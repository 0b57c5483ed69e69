//! What an upload is, from its bytes (never its name or declared type):
//! JPEG, PNG, WebP or PDF. Images are decoded within limits (a decompression
//! bomb is refused before it is inflated) and re-encoded, which drops EXIF
//! and GPS metadata, with a 512 px JPEG thumbnail; a PDF is kept as sent
//! once its header and end are there.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Longest side of a thumbnail, pixels.
pub const THUMBNAIL_SIDE: u32 = 512;
/// JPEG quality of re-encoded photos.
const JPEG_QUALITY: u8 = 85;
/// Memory an image may take while decoded, bytes.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// A file's type, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// PDF.
    Pdf,
}

/// What is kept of an upload.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The bytes to store.
    pub bytes: Vec<u8>,
    /// Their type.
    pub content_type: &'static str,
    /// The file extension of the key.
    pub extension: &'static str,
    /// A JPEG thumbnail, for images.
    pub thumbnail: Option<Vec<u8>>,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// Not JPEG, PNG, WebP or PDF, or a PDF where a photo is wanted.
    #[error("the file must be a JPEG, PNG or WebP image{0}")]
    UnsupportedType(&'static str),
    /// Truncated, corrupt, or too large once decoded.
    #[error("the file could not be read as the image or PDF it claims to be: {0}")]
    Unreadable(String),
    /// Its name or type says one thing and its bytes another.
    #[error("the file's content does not match its name or type")]
    Mismatch,
    /// Over the per-file limit.
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
}

/// The type of `bytes`, if it is one we take.
pub fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some(Sniffed::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Sniffed::Png),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some(Sniffed::Webp),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(Sniffed::Pdf),
        _ => None,
    }
}

/// Whether what a part says it is (its `Content-Type`, its file name's
/// extension) agrees with its bytes; what says nothing agrees.
pub fn declared_matches(content_type: Option<&str>, file_name: Option<&str>, bytes: &[u8]) -> bool {
    let Some(sniffed) = sniff(bytes) else {
        return true;
    };
    let by_type = match content_type.map(str::to_ascii_lowercase).as_deref() {
        Some("image/jpeg" | "image/jpg") => Some(Sniffed::Jpeg),
        Some("image/png") => Some(Sniffed::Png),
        Some("image/webp") => Some(Sniffed::Webp),
        Some("application/pdf") => Some(Sniffed::Pdf),
        _ => None,
    };
    let extension = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let by_name = match extension.as_deref() {
        Some("jpg" | "jpeg") => Some(Sniffed::Jpeg),
        Some("png") => Some(Sniffed::Png),
        Some("webp") => Some(Sniffed::Webp),
        Some("pdf") => Some(Sniffed::Pdf),
        _ => None,
    };
    by_type.is_none_or(|t| t == sniffed) && by_name.is_none_or(|t| t == sniffed)
}

/// Checks and re-encodes `bytes`; `pdf_allowed` for documents (not photos);
/// images wider or taller than `max_side` are refused.
pub fn prepare(bytes: &[u8], pdf_allowed: bool, max_side: u32) -> Result<Prepared, UploadError> {
    let format = match sniff(bytes) {
        Some(Sniffed::Pdf) if pdf_allowed => return pdf(bytes),
        Some(Sniffed::Pdf) | None => {
            return Err(UploadError::UnsupportedType(if pdf_allowed {
                ", or a PDF"
            } else {
                ""
            }));
        }
        Some(Sniffed::Jpeg) => ImageFormat::Jpeg,
        Some(Sniffed::Png) => ImageFormat::Png,
        Some(Sniffed::Webp) => ImageFormat::WebP,
    };
    if !whole(bytes, format) {
        return Err(UploadError::Unreadable("the image is truncated".into()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    let (bytes, content_type, extension) = match format {
        ImageFormat::Jpeg => (jpeg(&image)?, "image/jpeg", "jpg"),
        // PNG and WebP are kept lossless, as PNG.
        _ => {
            let mut out = Vec::new();
            image
                .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
                .map_err(|e| UploadError::Unreadable(e.to_string()))?;
            (out, "image/png", "png")
        }
    };
    let thumbnail = jpeg(&image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE))?;
    Ok(Prepared {
        bytes,
        content_type,
        extension,
        thumbnail: Some(thumbnail),
    })
}

/// Whether an image ends where its format says it does: a JPEG's EOI
/// marker, a PNG's `IEND` chunk, a WebP's RIFF length (decoders fill in a
/// truncated file's missing pixels rather than fail).
fn whole(bytes: &[u8], format: ImageFormat) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    match format {
        ImageFormat::Jpeg => tail.windows(2).any(|w| w == [0xFF, 0xD9]),
        ImageFormat::Png => tail.windows(4).any(|w| w == b"IEND"),
        ImageFormat::WebP => bytes.get(4..8).is_some_and(|len| {
            let declared = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
            usize::try_from(declared).is_ok_and(|d| d + 8 <= bytes.len())
        }),
        _ => true,
    }
}

fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, UploadError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&DynamicImage::ImageRgb8(image.to_rgb8()))
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    Ok(out)
}

fn pdf(bytes: &[u8]) -> Result<Prepared, UploadError> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(UploadError::Unreadable(
            "the PDF has no end (truncated?)".into(),
        ));
    }
    Ok(Prepared {
        bytes: bytes.to_vec(),
        content_type: "application/pdf",
        extension: "pdf",
        thumbnail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, RgbImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageLuma8(GrayImage::new(width, height))
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_png_named_pdf_does_not_match() {
        let png = png(2, 2);
        assert!(!declared_matches(
            Some("application/pdf"),
            Some("scan.pdf"),
            &png
        ));
        assert!(!declared_matches(None, Some("scan.PDF"), &png));
        assert!(declared_matches(Some("image/png"), Some("scan.png"), &png));
        assert!(declared_matches(
            Some("application/octet-stream"),
            None,
            &png
        ));
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(sniff(&png(2, 2)), Some(Sniffed::Png));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Sniffed::Pdf));
        assert_eq!(sniff(b"PK\x03\x04zip"), None);
        let err = prepare(&png(2, 2)[..20], false, 4000).unwrap_err();
        assert!(matches!(err, UploadError::Unreadable(_)), "{err:?}");
        assert_eq!(
            prepare(b"%PDF-1.7\n...", false, 4000).unwrap_err(),
            UploadError::UnsupportedType("")
        );
        assert!(matches!(
            prepare(b"%PDF-1.7\nno end", true, 4000).unwrap_err(),
            UploadError::Unreadable(_)
        ));
        assert_eq!(
            prepare(b"%PDF-1.7\n%%EOF\n", true, 4000)
                .unwrap()
                .content_type,
            "application/pdf"
        );
    }

    #[test]
    fn an_image_is_re_encoded_with_a_thumbnail_and_a_bomb_is_refused() {
        let mut photo = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::new(1200, 800))
            .write_to(&mut Cursor::new(&mut photo), ImageFormat::Jpeg)
            .unwrap();
        let kept = prepare(&photo, false, 4000).unwrap();
        assert_eq!(kept.content_type, "image/jpeg");
        let thumb = image::load_from_memory(&kept.thumbnail.unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (512, 341));
        // 5000 × 5000 of nothing compresses to about 130 kB.
        let bomb = png(5000, 5000);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        assert!(matches!(
            prepare(&bomb, false, 4000).unwrap_err(),
            UploadError::Unreadable(_)
        ));
    }
}

//! Room pictures: an upload is only ever served after it was decoded and re-encoded here. The
//! format comes from the file's own bytes (JPEG, PNG or WebP), its dimensions are checked from
//! its header before any pixel is decoded (so a small file claiming a huge picture, a
//! decompression bomb, is refused for the cost of reading a header), the camera's orientation
//! is applied, and the picture is scaled down and written anew: no metadata (location, camera,
//! comments) and nothing but pixels survives.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The most pixels an upload may have (a 40-megapixel camera's).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side of the picture shown on the room page.
pub const DISPLAY_SIDE: u32 = 1600;
/// The longest side of the thumbnail shown in lists.
pub const THUMBNAIL_SIDE: u32 = 480;
/// JPEG quality of what we write.
const JPEG_QUALITY: u8 = 85;
/// Memory the decoder may use, whatever the header claims.
const MAX_DECODER_ALLOC: u64 = 512 * 1024 * 1024;

/// Why an upload is not a picture we take.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not JPEG, PNG or WebP (by its bytes, whatever it is called).
    #[error("is not a JPEG, PNG or WebP picture")]
    UnsupportedType,
    /// It says it is one but does not decode.
    #[error("could not be read as a picture: the file is damaged or incomplete")]
    Unreadable,
    /// More pixels than [`MAX_PIXELS`].
    #[error("has {width} × {height} pixels; the most is 40 megapixels")]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
}

/// A picture as we serve it.
#[derive(Debug)]
pub struct Encoded {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// An upload, processed: the picture for the room page and its thumbnail, in one format.
#[derive(Debug)]
pub struct Processed {
    /// `jpg` (opaque pictures) or `png` (pictures with transparency).
    pub format: StoredFormat,
    /// At most [`DISPLAY_SIDE`] on its longest side.
    pub display: Encoded,
    /// At most [`THUMBNAIL_SIDE`] on its longest side.
    pub thumbnail: Encoded,
}

/// The format we write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoredFormat {
    /// Opaque pictures.
    Jpg,
    /// Pictures with transparency.
    Png,
}

impl StoredFormat {
    /// The media type to serve it with.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    /// The file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpg => "jpg",
            Self::Png => "png",
        }
    }
}

/// Decodes, checks, orients, scales and re-encodes an upload. CPU-bound: run it off the async
/// threads.
///
/// # Errors
/// [`Refusal`] for anything that is not a picture we take.
pub fn process(upload: &[u8]) -> Result<Processed, Refusal> {
    let format = image::guess_format(upload).map_err(|_| Refusal::UnsupportedType)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(Refusal::UnsupportedType);
    }
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(upload), format);
        let mut limits = Limits::default();
        limits.max_alloc = Some(MAX_DECODER_ALLOC);
        reader.limits(limits);
        reader
    };
    // The header alone first: a bomb is refused before its pixels are inflated.
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|_| Refusal::Unreadable)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels { width, height });
    }
    let mut decoder = reader().into_decoder().map_err(|_| Refusal::Unreadable)?;
    let orientation = decoder.orientation().map_err(|_| Refusal::Unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| Refusal::Unreadable)?;
    picture.apply_orientation(orientation);
    let format = if picture.color().has_alpha() {
        StoredFormat::Png
    } else {
        StoredFormat::Jpg
    };
    let display = scaled(&picture, DISPLAY_SIDE);
    let thumbnail = scaled(&display, THUMBNAIL_SIDE);
    Ok(Processed {
        format,
        display: encode(&display, format)?,
        thumbnail: encode(&thumbnail, format)?,
    })
}

/// The picture with its longest side at most `side` (never enlarged).
fn scaled(picture: &DynamicImage, side: u32) -> DynamicImage {
    if picture.width() <= side && picture.height() <= side {
        return picture.clone();
    }
    picture.resize(side, side, FilterType::CatmullRom)
}

fn encode(picture: &DynamicImage, format: StoredFormat) -> Result<Encoded, Refusal> {
    let mut bytes = Vec::new();
    let written = match format {
        StoredFormat::Jpg => picture
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)),
        StoredFormat::Png => picture
            .to_rgba8()
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png),
    };
    // Encoding pixels we decoded ourselves cannot meet bad input; a failure is reported as the
    // upload's all the same, never a panic.
    written.map_err(|_| Refusal::Unreadable)?;
    Ok(Encoded {
        bytes,
        width: picture.width(),
        height: picture.height(),
    })
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_pixel(width, height, Rgb([200, 30, 30]));
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn a_large_photo_is_scaled_down_and_written_as_jpeg() {
        let processed = process(&png(2000, 1000)).unwrap();
        assert_eq!(processed.format, StoredFormat::Jpg);
        assert_eq!(
            (processed.display.width, processed.display.height),
            (1600, 800)
        );
        assert_eq!(
            (processed.thumbnail.width, processed.thumbnail.height),
            (480, 240)
        );
        assert_eq!(
            image::guess_format(&processed.display.bytes).unwrap(),
            ImageFormat::Jpeg
        );
    }

    #[test]
    fn a_small_transparent_picture_stays_its_size_as_png() {
        let picture = RgbaImage::from_pixel(40, 30, Rgba([0, 0, 0, 0]));
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::WebP)
            .unwrap();
        let processed = process(&bytes).unwrap();
        assert_eq!(processed.format, StoredFormat::Png);
        assert_eq!(
            (processed.display.width, processed.display.height),
            (40, 30)
        );
    }

    #[test]
    fn what_is_not_a_picture_we_take_is_refused() {
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        for upload in [&b"%PDF-1.7 not a picture"[..], b"", gif] {
            assert!(
                matches!(process(upload), Err(Refusal::UnsupportedType)),
                "{upload:?}"
            );
        }
        let truncated = png(64, 64);
        assert!(matches!(
            process(&truncated[..truncated.len() / 2]),
            Err(Refusal::Unreadable)
        ));
    }

    #[test]
    fn nothing_but_pixels_survives() {
        let mut jpeg = Vec::new();
        RgbImage::from_pixel(32, 32, Rgb([10, 200, 10]))
            .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 90))
            .unwrap();
        // A comment segment right after the start marker, as cameras and editors write them.
        let note = b"taken at 52.5200N 13.4050E by J. Doe";
        let mut segment = vec![0xFF, 0xFE];
        segment.extend(u16::try_from(note.len() + 2).unwrap().to_be_bytes());
        segment.extend(note);
        let mut upload = jpeg[..2].to_vec();
        upload.extend(&segment);
        upload.extend(&jpeg[2..]);
        let processed = process(&upload).unwrap();
        for written in [&processed.display.bytes, &processed.thumbnail.bytes] {
            assert!(!written.windows(note.len()).any(|w| w == note));
        }
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // 9000 × 9000: 81 megapixels claimed by a 65-byte file; had its pixels been decoded,
        // the missing data would make it `Unreadable` instead.
        let bomb = shifting_testkit::claimed_png(9000, 9000);
        assert_eq!(
            process(&bomb).unwrap_err(),
            Refusal::TooManyPixels {
                width: 9000,
                height: 9000
            }
        );
    }
}

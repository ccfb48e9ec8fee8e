//! Thumbnails with the `image` crate (png, jpeg, gif, webp only). A thumbnail keeps
//! its original's format, except webp, which is written as png.

use std::io::Cursor;

use basalt_core::files::{Thumb, ThumbMode};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader};

/// Most bytes decoding one image may allocate.
const MAX_DECODE_BYTES: u64 = 256 << 20;

/// The thumbnail of `original`, or `None` when it is not an image we thumbnail or
/// does not decode.
pub fn make(original: &[u8], thumb: Thumb) -> Option<Vec<u8>> {
    let format = image::guess_format(original).ok()?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return None;
    }
    let mut reader = ImageReader::with_format(Cursor::new(original), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().ok()?;
    let out = resize(&img, thumb);
    let out_format = match format {
        ImageFormat::WebP => ImageFormat::Png,
        f => f,
    };
    let out = match out_format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(out.to_rgb8()),
        ImageFormat::Gif => DynamicImage::ImageRgba8(out.to_rgba8()),
        _ => out,
    };
    let mut bytes = Cursor::new(Vec::new());
    out.write_to(&mut bytes, out_format).ok()?;
    Some(bytes.into_inner())
}

fn resize(img: &DynamicImage, t: Thumb) -> DynamicImage {
    let (w, h) = (img.width().max(1), img.height().max(1));
    let filter = FilterType::Lanczos3;
    match (t.width, t.height) {
        (0, th) => {
            let tw = ((u64::from(w) * u64::from(th)) / u64::from(h)).max(1) as u32;
            img.resize_exact(tw, th, filter)
        }
        (tw, 0) => {
            let th = ((u64::from(h) * u64::from(tw)) / u64::from(w)).max(1) as u32;
            img.resize_exact(tw, th, filter)
        }
        (tw, th) => match t.mode {
            ThumbMode::Fit => img.resize(tw, th, filter),
            ThumbMode::Center => img.resize_to_fill(tw, th, filter),
            ThumbMode::Top | ThumbMode::Bottom => {
                let scale = f64::max(f64::from(tw) / f64::from(w), f64::from(th) / f64::from(h));
                let sw = ((f64::from(w) * scale).ceil() as u32).max(tw);
                let sh = ((f64::from(h) * scale).ceil() as u32).max(th);
                let scaled = img.resize_exact(sw, sh, filter);
                let x = (sw - tw) / 2;
                let y = if t.mode == ThumbMode::Top { 0 } else { sh - th };
                scaled.crop_imm(x, y, tw, th)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([9, 99, 199])));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn size(bytes: &[u8]) -> (u32, u32) {
        let img = image::load_from_memory(bytes).unwrap();
        (img.width(), img.height())
    }

    #[test]
    fn every_form_has_its_size() {
        let src = png(200, 100);
        let t = |s| make(&src, Thumb::parse(s).unwrap()).map(|b| size(&b));
        assert_eq!(t("50x50"), Some((50, 50)));
        assert_eq!(t("50x50t"), Some((50, 50)));
        assert_eq!(t("50x50b"), Some((50, 50)));
        assert_eq!(t("50x50f"), Some((50, 25)));
        assert_eq!(t("0x50"), Some((100, 50)));
        assert_eq!(t("100x0"), Some((100, 50)));
    }

    #[test]
    fn non_images_have_no_thumbnail() {
        assert!(make(b"hello", Thumb::parse("10x10").unwrap()).is_none());
        assert!(make(b"\x89PNG\r\n\x1a\nbroken", Thumb::parse("10x10").unwrap()).is_none());
    }
}

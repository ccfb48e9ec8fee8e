//! Thumbnail sizes as PocketBase spells them: `WxH` (crop to fill, centered), `WxHt`
//! (crop from the top), `WxHb` (from the bottom), `WxHf` (fit inside, no crop), `0xH`
//! and `Wx0` (resize to one side, keep the aspect ratio).

/// Largest thumbnail side accepted.
pub const MAX_THUMB_SIDE: u32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThumbMode {
    Center,
    Top,
    Bottom,
    Fit,
}

/// A parsed thumbnail size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thumb {
    pub width: u32,
    pub height: u32,
    pub mode: ThumbMode,
}

impl Thumb {
    /// Parses `100x100`, `100x100t`, `0x50`, …; `None` for anything else (`0x0`
    /// included, and sides above [`MAX_THUMB_SIDE`]).
    pub fn parse(s: &str) -> Option<Thumb> {
        let (mode, dims) = match s.as_bytes().last()? {
            b't' => (ThumbMode::Top, &s[..s.len() - 1]),
            b'b' => (ThumbMode::Bottom, &s[..s.len() - 1]),
            b'f' => (ThumbMode::Fit, &s[..s.len() - 1]),
            _ => (ThumbMode::Center, s),
        };
        let (w, h) = dims.split_once('x')?;
        let digits =
            |x: &str| !x.is_empty() && x.len() <= 5 && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(w) || !digits(h) {
            return None;
        }
        let (width, height) = (w.parse().ok()?, h.parse().ok()?);
        if (width == 0 && height == 0) || width > MAX_THUMB_SIDE || height > MAX_THUMB_SIDE {
            return None;
        }
        Some(Thumb {
            width,
            height,
            mode,
        })
    }

    /// `thumb` if it is one of the field's `thumbs`, exactly as listed.
    pub fn allowed(thumb: &str, listed: &[String]) -> Option<Thumb> {
        if !listed.iter().any(|t| t == thumb) {
            return None;
        }
        Thumb::parse(thumb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let t = |w, h, mode| {
            Some(Thumb {
                width: w,
                height: h,
                mode,
            })
        };
        assert_eq!(Thumb::parse("100x50"), t(100, 50, ThumbMode::Center));
        assert_eq!(Thumb::parse("100x50t"), t(100, 50, ThumbMode::Top));
        assert_eq!(Thumb::parse("100x50b"), t(100, 50, ThumbMode::Bottom));
        assert_eq!(Thumb::parse("100x50f"), t(100, 50, ThumbMode::Fit));
        assert_eq!(Thumb::parse("0x50"), t(0, 50, ThumbMode::Center));
        assert_eq!(Thumb::parse("100x0"), t(100, 0, ThumbMode::Center));
        for bad in [
            "", "0x0", "x", "100", "100x", "ax1", "1x1z", "-1x1", "99999x1", "1x1/..", "../1x1",
        ] {
            assert_eq!(Thumb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_listed_sizes_are_allowed() {
        let listed = vec!["100x100".to_owned(), "0x50".to_owned()];
        assert!(Thumb::allowed("100x100", &listed).is_some());
        assert!(Thumb::allowed("0x50", &listed).is_some());
        assert!(Thumb::allowed("50x50", &listed).is_none());
    }
}

//! The embedded font and what is done with a drawn SVG: measured, rasterised to PNG, parsed for
//! the PDF.
//!
//! Charts are drawn once, as SVG. PNG and PDF are that same SVG rendered with DejaVu Sans
//! compiled into the binary, so a machine with no fonts installed renders every chart, and the
//! three formats look alike. System fonts are never scanned: output must not depend on the
//! machine.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// The family every chart and page names (plotters writes `sans-serif`, which maps here too).
pub const FAMILY: &str = "DejaVu Sans";

/// A drawn SVG that could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("rendering an SVG: {0}")]
pub struct SvgError(pub String);

/// The font database with DejaVu Sans (regular, bold, oblique) as every generic family.
pub fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        for data in [
            dejavu::sans::regular(),
            dejavu::sans::bold(),
            dejavu::sans::oblique(),
        ] {
            db.load_font_data(data.to_vec());
        }
        db.set_sans_serif_family(FAMILY);
        db.set_serif_family(FAMILY);
        db.set_monospace_family(FAMILY);
        db.set_cursive_family(FAMILY);
        db.set_fantasy_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Parses an SVG document with the embedded fonts.
pub fn tree(svg: &str) -> Result<usvg::Tree, SvgError> {
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: FAMILY.to_string(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(|e| SvgError(e.to_string()))
}

/// The SVG as a PNG at `scale` × its size (2 gives print quality for a 720-pixel chart), on
/// white.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, SvgError> {
    let tree = tree(svg)?;
    let size = tree.size().to_int_size().scale_by(scale).ok_or_else(|| {
        SvgError(format!(
            "cannot scale {}×{} by {scale}",
            tree.size().width(),
            tree.size().height()
        ))
    })?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| SvgError("empty image".into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| SvgError(e.to_string()))
}

/// The width of `text` at `size` (same units as the size), in DejaVu Sans (bold or regular):
/// for wrapping and cutting text to the space it has.
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    static FACES: OnceLock<[Option<ttf_parser::Face<'static>>; 2]> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        [
            ttf_parser::Face::parse(dejavu::sans::regular(), 0).ok(),
            ttf_parser::Face::parse(dejavu::sans::bold(), 0).ok(),
        ]
    });
    let Some(face) = &faces[usize::from(bold)] else {
        // The embedded font always parses; an average advance keeps layout sane regardless.
        return text.chars().count() as f32 * size * 0.55;
    };
    let per_unit = size / f32::from(face.units_per_em());
    text.chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(size * 0.55, |a| f32::from(a) * per_unit)
        })
        .sum()
}

/// `text` broken into lines no wider than `width` at `size` (words longer than a line stay
/// whole).
pub fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, bold) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut with an ellipsis to fit `width`.
pub fn fit(text: &str, size: f32, bold: bool, width: f32) -> String {
    if text_width(text, size, bold) <= width {
        return text.to_string();
    }
    let mut out: String = String::new();
    for c in text.chars() {
        if text_width(&format!("{out}{c}…"), size, bold) > width {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// Text escaped for SVG/HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A whole SVG document's inner content and its size, to place it inside another document.
pub fn inner(svg: &str) -> Option<(f32, f32, &str)> {
    let open = svg.find("<svg")?;
    let close = open + svg[open..].find('>')?;
    let tag = &svg[open..close];
    let attr = |name: &str| -> Option<f32> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..].split('"').next()?.parse().ok()
    };
    let end = svg.rfind("</svg>")?;
    Some((attr("width")?, attr("height")?, &svg[close + 1..end]))
}

/// The SVG placed at (x, y) scaled to `width` (height keeps the aspect ratio). Returns the
/// markup and the height used.
pub fn place(svg: &str, x: f32, y: f32, width: f32) -> Option<(String, f32)> {
    let (w, h, body) = inner(svg)?;
    let height = width * h / w;
    Some((
        format!(
            "<svg x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" viewBox=\"0 0 {w} {h}\">{body}</svg>"
        ),
        height,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_measured_wrapped_and_fitted_with_the_embedded_font() {
        // DejaVu Sans: "i" is narrower than "W"; widths scale with size.
        assert!(text_width("i", 10.0, false) < text_width("W", 10.0, false));
        let w = text_width("Children in care", 10.0, false);
        assert!((text_width("Children in care", 20.0, false) - 2.0 * w).abs() < 1e-3);
        assert!(text_width("Children", 10.0, true) > text_width("Children", 10.0, false));
        let lines = wrap("one two three four five six", 10.0, false, 60.0);
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| text_width(l, 10.0, false) <= 60.0 || !l.contains(' '))
        );
        assert_eq!(lines.join(" "), "one two three four five six");
        let cut = fit("A very long indicator title indeed", 10.0, false, 80.0);
        assert!(cut.ends_with('…') && text_width(&cut, 10.0, false) <= 80.0);
        assert_eq!(fit("Short", 10.0, false, 80.0), "Short");
    }

    #[test]
    fn an_svg_with_text_renders_to_a_png_of_the_scaled_size() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"40\" viewBox=\"0 0 100 40\">\
                   <text x=\"5\" y=\"25\" font-family=\"sans-serif\" font-size=\"16\">Hello</text></svg>";
        let bytes = png(svg, 2.0).unwrap();
        let image = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        assert_eq!((image.width(), image.height()), (200, 80));
        // The text was drawn (some pixel is not white): the embedded font was found.
        assert!(image.pixels().iter().any(|p| p.red() < 128));
        let (w, h, body) = inner(svg).unwrap();
        assert_eq!((w, h), (100.0, 40.0));
        assert!(body.starts_with("<text"));
        let (placed, height) = place(svg, 10.0, 20.0, 50.0).unwrap();
        assert_eq!(height, 20.0);
        assert!(placed.contains("viewBox=\"0 0 100 40\""));
    }
}

//! The plumbing of a tagged page: what the members' pack is laid out in (blocks of SVG, each
//! content or page furniture, under a tree of krilla's tags) and how it is drawn and handed
//! to krilla. krilla tags what is drawn between `start_tagged` and `end_tagged` and hands out
//! the identifiers of marked content only as a page is drawn, while the structure is known as
//! the pack is laid out: so the layout builds its tree over numbered blocks, and drawing swaps
//! the numbers for krilla's identifiers.

use std::cell::Cell;
use std::num::NonZeroU16;

use krilla::Document;
use krilla::geom::{Rect, Size, Transform};
use krilla::page::PageSettings;
use krilla::tagging::{
    self, Artifact, ArtifactType, BBox, ContentTag, Identifier, Tag, TagGroup, TagKind,
};
use krilla_svg::{SurfaceExt, SvgSettings};

use super::{PAGE, PdfError, paragraph, svg_document};

/// What a block of a page is to a reader of the PDF's structure (a screen reader, a tool that
/// reflows the text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mark {
    /// Content: the leaf of the tag tree with this number.
    Leaf(usize),
    /// Page furniture (the page's white, rules, the cover's band, separators, footers, running
    /// heads), kept out of the structure so it is not read out.
    Artifact(ArtifactType),
}

/// A piece of a page drawn and tagged on its own: its SVG markup in its part's coordinates,
/// then, once placed, in the page's.
#[derive(Debug, Clone)]
pub(super) struct Block {
    pub(super) mark: Mark,
    pub(super) markup: String,
}

/// The pack's logical structure: krilla's tags over the blocks' leaf numbers, until
/// [`with_identifiers`] swaps in the identifiers drawing the blocks gave.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Group(TagKind, Vec<Node>),
    Leaf(usize),
}

impl Node {
    pub(super) fn group(kind: impl Into<TagKind>, children: Vec<Node>) -> Node {
        Node::Group(kind.into(), children)
    }

    /// Moves the bounding boxes of figures and tables by (dx, dy) onto page `page`: they are
    /// worked out where their part is laid out, before the part has a place on a page.
    pub(super) fn place(&mut self, page: usize, dx: f32, dy: f32) {
        let Node::Group(kind, children) = self else {
            return;
        };
        let moved = |b: Option<BBox>| {
            b.and_then(|b| b.rect.transform(Transform::from_translate(dx, dy)))
                .map(|rect| BBox::new(page, rect))
        };
        match kind {
            TagKind::Figure(t) => t.set_bbox(moved(t.bbox())),
            TagKind::Table(t) => t.set_bbox(moved(t.bbox())),
            _ => {}
        }
        for child in children {
            child.place(page, dx, dy);
        }
    }
}

/// Numbers the content blocks as they are laid out, one number per leaf of the tag tree.
#[derive(Debug, Default)]
pub(super) struct Leaves(Cell<usize>);

impl Leaves {
    pub(super) fn next(&self) -> usize {
        let n = self.0.get();
        self.0.set(n + 1);
        n
    }

    /// How many numbers were handed out.
    pub(super) fn count(&self) -> usize {
        self.0.get()
    }
}

/// Blocks laid out from one origin (a page, or a measure before it has a place on one) and
/// the part of the tag tree over them, in reading order.
pub(super) struct Part<'a> {
    leaves: &'a Leaves,
    pub(super) blocks: Vec<Block>,
    pub(super) nodes: Vec<Node>,
}

impl<'a> Part<'a> {
    pub(super) fn new(leaves: &'a Leaves) -> Self {
        Part {
            leaves,
            blocks: vec![],
            nodes: vec![],
        }
    }

    /// `markup` as a content block; returns its leaf for the caller to put in the tree.
    pub(super) fn leaf(&mut self, markup: String) -> Node {
        let n = self.leaves.next();
        self.blocks.push(Block {
            mark: Mark::Leaf(n),
            markup,
        });
        Node::Leaf(n)
    }

    /// `markup` as a content block under a tag of its own (a heading, a paragraph); nothing
    /// for no markup, so the structure has no empty element.
    pub(super) fn tagged(&mut self, kind: impl Into<TagKind>, markup: String) {
        if markup.is_empty() {
            return;
        }
        let leaf = self.leaf(markup);
        self.nodes.push(Node::group(kind, vec![leaf]));
    }

    pub(super) fn artifact(&mut self, kind: ArtifactType, markup: String) {
        self.blocks.push(Block {
            mark: Mark::Artifact(kind),
            markup,
        });
    }

    /// Wrapped lines of `s` from `at` (the first baseline) as one block under `kind`; returns
    /// the y after the last line.
    pub(super) fn paragraph(
        &mut self,
        kind: impl Into<TagKind>,
        at: (f32, f32),
        size: f32,
        bold: bool,
        width: f32,
        s: &str,
    ) -> f32 {
        let mut out = String::new();
        let y = paragraph(&mut out, at.0, at.1, size, bold, width, s);
        self.tagged(kind, out);
        y
    }

    /// The part's blocks and tree put at (dx, dy) of page `page` and added to `self`.
    pub(super) fn place(&mut self, part: Part, page: usize, dx: f32, dy: f32) {
        self.blocks.extend(part.blocks.into_iter().map(|b| Block {
            mark: b.mark,
            markup: format!(
                "<g transform=\"translate({dx:.1} {dy:.1})\">{}</g>",
                b.markup
            ),
        }));
        self.nodes.extend(part.nodes.into_iter().map(|mut n| {
            n.place(page, dx, dy);
            n
        }));
    }
}

/// A heading of `level` whose title (required by PDF/UA) is its text.
pub(super) fn heading_tag(level: u16, title: &str) -> TagKind {
    let level = NonZeroU16::MIN.saturating_add(level.saturating_sub(1));
    Tag::Hn(level, Some(title.to_string())).into()
}

/// Draws a page's blocks in order, each its own marked-content sequence: content records the
/// identifier krilla gives it in `drawn` (by leaf number), artifacts are marked as such.
pub(super) fn draw_page(
    document: &mut Document,
    blocks: &[Block],
    drawn: &mut [Option<Identifier>],
) -> Result<(), PdfError> {
    let size = Size::from_wh(PAGE.0, PAGE.1).expect("A4 is a valid size");
    let settings = SvgSettings {
        embed_text: true,
        ..SvgSettings::default()
    };
    // Parsed first, so a bad block stops the export before a tagged section is open.
    let trees = blocks
        .iter()
        .map(|b| crate::render::svg::tree(&svg_document(&b.markup)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut page = document.start_page_with(PageSettings::new(size));
    let mut surface = page.surface();
    for (block, tree) in blocks.iter().zip(&trees) {
        let tag = match block.mark {
            Mark::Leaf(_) => ContentTag::Other,
            // PDF 1.7 wants a background artifact's box: the whole page.
            Mark::Artifact(kind @ ArtifactType::Background) => ContentTag::Artifact(Artifact::new(
                kind,
                Rect::from_xywh(0.0, 0.0, PAGE.0, PAGE.1),
            )),
            Mark::Artifact(kind) => ContentTag::Artifact(Artifact::with_kind(kind)),
        };
        let id = surface.start_tagged(tag);
        surface.draw_svg(tree, size, settings);
        surface.end_tagged();
        if let Mark::Leaf(n) = block.mark
            && let Some(slot) = drawn.get_mut(n)
        {
            *slot = Some(id);
        }
    }
    surface.finish();
    page.finish();
    Ok(())
}

/// The layout's node as krilla's, each leaf number replaced by the identifier of its block.
pub(super) fn with_identifiers(
    node: Node,
    drawn: &[Option<Identifier>],
) -> Result<tagging::Node, PdfError> {
    match node {
        Node::Leaf(n) => drawn
            .get(n)
            .copied()
            .flatten()
            .map(tagging::Node::from)
            .ok_or(PdfError::Undrawn(n)),
        Node::Group(kind, children) => {
            let children = children
                .into_iter()
                .map(|c| with_identifiers(c, drawn))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(TagGroup::with_children(kind, children).into())
        }
    }
}

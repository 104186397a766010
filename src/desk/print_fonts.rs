//! Fonts for the PDF of a ticket (issue 18 part 5): the host's TrueType
//! fonts (Debian's `fonts-dejavu-core` for Latin, Greek and Cyrillic,
//! `fonts-droid-fallback` for Chinese and Japanese, `fonts-nanum` for
//! Korean), each embedded as a subset of the glyphs the document uses, with
//! a ToUnicode map so the text can be searched and copied. A character is
//! drawn with the first font of the chain that has it. Without any of these
//! fonts the PDF falls back to Helvetica (Latin-1 only).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, Str};

/// The regular chain, in order of preference.
const REGULAR: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
];
/// The bold chain (scripts without a bold face take the regular one).
const BOLD: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf",
];

/// A font file read once (the same file may be in both chains).
struct FontFile {
    name: String,
    data: Vec<u8>,
}

/// The fonts found on this host: every file of both chains that parses as
/// a TrueType (glyf) font, and the two chains as indexes into them.
pub struct Fonts {
    files: Vec<FontFile>,
    regular: Vec<usize>,
    bold: Vec<usize>,
}

impl Fonts {
    /// The host's fonts, looked up once per process.
    pub fn host() -> &'static Fonts {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        FONTS.get_or_init(|| Fonts::load(REGULAR, BOLD))
    }

    /// Fonts from these paths (missing or unusable files are skipped).
    pub fn load(regular: &[&str], bold: &[&str]) -> Fonts {
        let mut fonts = Fonts { files: Vec::new(), regular: Vec::new(), bold: Vec::new() };
        for (chain, paths) in [(0, regular), (1, bold)] {
            for path in paths {
                let at = match fonts.files.iter().position(|f| f.name == *path) {
                    Some(i) => i,
                    None => {
                        let Ok(data) = std::fs::read(path) else { continue };
                        let usable = ttf_parser::Face::parse(&data, 0).is_ok_and(|f| f.tables().glyf.is_some());
                        if !usable {
                            continue;
                        }
                        fonts.files.push(FontFile { name: path.to_string(), data });
                        fonts.files.len() - 1
                    }
                };
                if chain == 0 { fonts.regular.push(at) } else { fonts.bold.push(at) }
            }
        }
        fonts
    }

    pub fn is_empty(&self) -> bool {
        self.regular.is_empty()
    }

    fn face(&self, file: usize) -> Option<ttf_parser::Face<'_>> {
        ttf_parser::Face::parse(&self.files.get(file)?.data, 0).ok()
    }
}

/// A found glyph: font file, glyph, the character it draws (`?` when no
/// font has the one asked for), its advance at size 1.
type Found = Option<(usize, u16, char, f32)>;

/// Glyph lookups for one document: each font parsed once, each (style,
/// character) looked up once.
pub struct Picker<'a> {
    fonts: &'a Fonts,
    faces: Vec<Option<ttf_parser::Face<'a>>>,
    cache: RefCell<HashMap<(bool, char), Found>>,
}

impl<'a> Picker<'a> {
    pub fn new(fonts: &'a Fonts) -> Picker<'a> {
        let faces = fonts.files.iter().map(|f| ttf_parser::Face::parse(&f.data, 0).ok()).collect();
        Picker { fonts, faces, cache: RefCell::new(HashMap::new()) }
    }

    /// The font of the chain that draws `c` ('?' when none has it).
    fn pick(&self, bold: bool, c: char) -> Found {
        if let Some(hit) = self.cache.borrow().get(&(bold, c)) {
            return *hit;
        }
        let chain = if bold && !self.fonts.bold.is_empty() { &self.fonts.bold } else { &self.fonts.regular };
        let found = [c, '?'].into_iter().find_map(|want| {
            chain.iter().find_map(|&file| {
                let face = self.faces.get(file)?.as_ref()?;
                let g = face.glyph_index(want)?;
                let advance = f32::from(face.glyph_hor_advance(g).unwrap_or(0)) / f32::from(face.units_per_em().max(1));
                Some((file, g.0, want, advance))
            })
        });
        self.cache.borrow_mut().insert((bold, c), found);
        found
    }

    /// Width of `c` at size 1 (in text space units per point of size).
    pub fn width(&self, bold: bool, c: char) -> f32 {
        self.pick(bold, c).map_or(0.5, |f| f.3)
    }
}

/// The glyphs a document draws with each font, as they will be embedded.
#[derive(Default)]
pub struct Used {
    /// Font file → (old glyph → (new glyph, the character it draws)).
    glyphs: BTreeMap<usize, (subsetter::GlyphRemapper, BTreeMap<u16, char>)>,
}

impl Used {
    /// `text` in runs of one font each: (the font's resource name, the
    /// bytes to show: two-byte glyph ids of the subset).
    pub fn runs(&mut self, picker: &Picker, bold: bool, text: &str) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for c in text.chars().filter(|c| !c.is_control()) {
            let Some((file, old, c, _)) = picker.pick(bold, c) else { continue };
            let (remap, chars) = self.glyphs.entry(file).or_insert_with(|| (subsetter::GlyphRemapper::new(), BTreeMap::new()));
            let new = remap.remap(old);
            chars.entry(new).or_insert(c);
            let name = resource(file);
            match out.last_mut() {
                Some((n, bytes)) if *n == name => bytes.extend_from_slice(&new.to_be_bytes()),
                _ => out.push((name, new.to_be_bytes().to_vec())),
            }
        }
        out
    }

    /// Writes each used font as a Type 0 font with its subset, from `next`
    /// on; returns (resource name, font object) pairs and the next free id.
    pub fn write(&self, fonts: &Fonts, pdf: &mut Pdf, mut next: i32) -> (Vec<(String, Ref)>, i32) {
        let mut out = Vec::new();
        for (&file, (remap, chars)) in &self.glyphs {
            let (Some(face), Some(f)) = (fonts.face(file), fonts.files.get(file)) else { continue };
            let Ok(subset) = subsetter::subset(&f.data, 0, remap) else { continue };
            let [type0, cid, descriptor, stream, cmap] = [0, 1, 2, 3, 4].map(|i| Ref::new(next + i));
            next += 5;
            let upem = f32::from(face.units_per_em().max(1));
            let scale = |v: i16| f32::from(v) * 1000.0 / upem;
            let stem: String = f.name.rsplit('/').next().unwrap_or("Font").chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let base = format!("FDSUB{}+{stem}", (b'A' + (file % 26) as u8) as char);
            let info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
            pdf.type0_font(type0)
                .base_font(Name(base.as_bytes()))
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid)
                .to_unicode(cmap);
            // Widths of the new glyphs in their order (0 is .notdef).
            let widths: Vec<f32> = remap
                .remapped_gids()
                .map(|old| f32::from(face.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0)) * 1000.0 / upem)
                .collect();
            let mut c = pdf.cid_font(cid);
            c.subtype(CidFontType::Type2).base_font(Name(base.as_bytes())).system_info(info).font_descriptor(descriptor).default_width(0.0);
            c.cid_to_gid_map_predefined(Name(b"Identity"));
            c.widths().consecutive(0, widths);
            c.finish();
            let b = face.global_bounding_box();
            pdf.font_descriptor(descriptor)
                .name(Name(base.as_bytes()))
                .flags(FontFlags::SYMBOLIC)
                .bbox(Rect::new(scale(b.x_min), scale(b.y_min), scale(b.x_max), scale(b.y_max)))
                .italic_angle(0.0)
                .ascent(scale(face.ascender()))
                .descent(scale(face.descender()))
                .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
                .stem_v(80.0)
                .font_file2(stream);
            pdf.stream(stream, &subset).pair(Name(b"Length1"), subset.len() as i32);
            let mut map = UnicodeCmap::new(Name(b"Custom"), info);
            for (&new, &ch) in chars {
                map.pair(new, ch);
            }
            pdf.cmap(cmap, &map.finish());
            out.push((resource(file), type0));
        }
        (out, next)
    }
}

/// The resource name of font file `i` on a page.
fn resource(i: usize) -> String {
    format!("U{i}")
}

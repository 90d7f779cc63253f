/**
 * Which Debian packages and files the training photographs come from, and the rules that decide.
 * Policy (docs/data.md):
 * - packages reserved for independent evaluation are never fetched or read (explicit deny list,
 *   enforced by {@link assertTrainingPackage});
 * - a file is used when the explicit per-file list allows it, or when it is not denied there and
 *   passes the automatic photo filter ({@link isLikelyPhoto}); vector files (SVG) are never used;
 * - licences come from the package's DEP-5 `debian/copyright` ({@link licenceFor});
 * - train/val are split by file (never by crop), deterministically, keeping groups of near-duplicate
 *   files (a stereo pair) in the same split ({@link assignSplits}).
 */
import { isLikelyPhoto } from './photo-stats.ts';
import type { PhotoStats } from './photo-stats.ts';

/** Reserved for independent evaluation: never fetched, never read, never trained or tuned on. */
export const EVALUATION_RESERVED_PACKAGES: readonly string[] = ['opencv-doc', 'plasma-workspace-wallpapers'];

/** A Debian package searched for photographs. */
export interface PhotoPackage {
  name: string;
  /** folders inside the package that hold images (or the containers below) */
  roots: readonly string[];
  /**
   * The photos are stored inside resource containers (containers.ts): `edj` takes the largest
   * JPEG of each Enlightenment `.edj` file (the others are the same picture at smaller sizes);
   * `rcc` takes the files of Qt `.rcc` resources whose path matches `members`; `raw-bz2` reads
   * bzip2'd bare RGB arrays of `rawShape` (SciPy's sample images).
   */
  container?: 'edj' | 'rcc' | 'raw-bz2';
  /** which container members are candidates (rcc), or which files are arrays (raw-bz2) */
  members?: RegExp;
  /** size of the bzip2'd 8-bit RGB arrays (`raw-bz2`: a NumPy image saved as bare bytes) */
  rawShape?: { width: number; height: number };
  /**
   * Why the package's photos are content only: usable as inputs and content (crops to inpaint,
   * edit, texture depth scenes) but never as clean restoration targets, because they carry
   * visible compression damage of their own.
   */
  contentOnly?: string;
  /** an upstream licence statement that differs from (or refines) debian/copyright */
  upstreamLicence?: string;
}

/** The gcompris activities whose pictures are photographs (checked by looking); the others
 * (`lang`, `babyshapes`, `solar_system`, `gravity`, …) hold clip-art, paintings and renders. */
const GCOMPRIS_PHOTO_ACTIVITIES = /\/activities\/(categorization|clickgame|details|erase|explore_farm_animals|explore_monuments|explore_world_animals|explore_world_music)\/.*\.webp$/;

/** Candidate packages (checked with apt-cache on Debian bookworm). gnome-backgrounds and
 * ukui-wallpapers are searched but contribute no photographs (all artwork). Not used, and why:
 * blender-data's HDR panoramas are OpenEXR, which the image library here cannot decode (no
 * tone-mapping path without a decoder); python3-pywt's sample images and SciPy's `ascent` are
 * greyscale arrays. */
export const PHOTO_PACKAGES: readonly PhotoPackage[] = [
  { name: 'mate-backgrounds', roots: ['usr/share/backgrounds/mate'] },
  { name: 'lomiri-wallpapers-16.04', roots: ['usr/share/backgrounds'] },
  { name: 'lomiri-wallpapers-20.04', roots: ['usr/share/backgrounds'] },
  { name: 'ukui-wallpapers', roots: ['usr/share/backgrounds'] },
  { name: 'gnome-backgrounds', roots: ['usr/share/backgrounds/gnome'] },
  { name: 'python3-skimage', roots: ['usr/lib/python3/dist-packages/skimage/data'] },
  { name: 'enlightenment-data', roots: ['usr/share/enlightenment/data/backgrounds'], container: 'edj' },
  {
    name: 'lxqt-themes',
    roots: ['usr/share/lxqt/wallpapers'],
    upstreamLicence: 'wallpapers/License: CC-BY-SA-3.0, (c) 2022 LXQt Project Team; photos by stefonarch (debian/copyright says LGPL-2.1+ for Files: *)',
  },
  {
    name: 'gcompris-qt-data',
    roots: ['usr/share/gcompris-qt/rcc'],
    container: 'rcc',
    members: GCOMPRIS_PHOTO_ACTIVITIES,
    contentOnly: 'small WebP files with strong compression (smeared detail, ringing at edges)',
  },
  { name: 'tuxtype-data', roots: ['usr/share/tuxtype/images'] },
  { name: 'tuxpaint-data', roots: ['usr/share/tuxpaint/templates'] },
  { name: 'tuxmath-data', roots: ['usr/share/tuxmath/images/backgrounds', 'usr/share/tuxmath/images/title'] },
  { name: 'palapeli-data', roots: ['usr/share/palapeli/collection'] },
  { name: 'sddm-theme-maldives', roots: ['usr/share/sddm/themes/maldives'] },
  { name: 'python3-sklearn', roots: ['usr/lib/python3/dist-packages/sklearn/datasets/images'] },
  { name: 'python-matplotlib-data', roots: ['usr/share/matplotlib/mpl-data/sample_data'] },
  // scipy.misc.face(): 1024 × 768 RGB, stored as bzip2'd bytes
  { name: 'python3-scipy', roots: ['usr/lib/python3/dist-packages/scipy/misc'], container: 'raw-bz2', members: /\/face\.dat$/, rawShape: { width: 1024, height: 768 } },
];

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

/** Throws when a package is reserved for evaluation. */
export function assertTrainingPackage(name: string): void {
  if (EVALUATION_RESERVED_PACKAGES.includes(name.trim().toLowerCase())) {
    throw new Error(`package ${name} is reserved for independent evaluation and must not be used for training data`);
  }
}

/**
 * gcompris photos (looked at) that the automatic filter rejects because WebP compression flattened
 * smooth areas into blocks of identical pixels ("flat areas") or merged colours. Greyscale ones
 * (swans at night, an aerial view, an instrument on grey) and objects cut out on white stay out.
 */
const GCOMPRIS_COMPRESSED_PHOTOS: readonly string[] = [
  'categorization--renewable-windmill6', 'categorization--monuments-victoriaMemorial', 'categorization--numbers-numbers', 'categorization--alphabets-alphabets',
  'clickgame--resource-sea4', 'clickgame--resource-sea5',
  'details--image-GizahPyramids_background', 'details--image-TowerBridgeLondon_background', 'details--image-NDP_background', 'details--image-OperaSidney_background',
  'erase--resource-caterpillar', 'erase--resource-camels', 'erase--resource-dolphin', 'erase--resource-kingfisher', 'erase--resource-rhinoceros',
  'explore_farm_animals--animals-cat', 'explore_farm_animals--animals-duck', 'explore_farm_animals--animals-owl',
  'explore_monuments--usa-cabrillo', 'explore_monuments--usa-mountRushmore', 'explore_monuments--usa-statueofLiberty',
  'explore_monuments--egypt-meidumPyramid', 'explore_monuments--egypt-bentPyramid', 'explore_monuments--egypt-redPyramid',
  'explore_monuments--india-charminar', 'explore_monuments--india-rangGhar', 'explore_monuments--india-mysorePalace', 'explore_monuments--india-goldenTemple', 'explore_monuments--india-ajantaCave',
  'explore_monuments--france-palaisdesPapes', 'explore_monuments--france-reimsCathedral', 'explore_monuments--france-eiffelTower', 'explore_monuments--france-arlesAmphitheater', 'explore_monuments--france-montStMichel',
  'explore_monuments--germany-schwerinPalace', 'explore_monuments--wonders-tajMahal',
  'explore_world_animals--animals-giraffe', 'explore_world_animals--animals-scarlet_macaw',
  'explore_world_music--music-italy', 'explore_world_music--music-ireland',
];

/** A per-file decision that overrides the automatic filter. */
export interface FileOverride {
  decision: 'allow' | 'deny';
  reason: string;
  /** optional upstream provenance note (kept in the sources record) */
  note?: string;
}

/**
 * Explicit decisions, keyed `package:basename`, made by looking at every candidate. They cover
 * the cases the automatic filter gets wrong: artwork with photo-like statistics (renders,
 * composites, painted textures) and real photos with few colours (smooth bokeh, near-grey scenes).
 */
export const FILE_OVERRIDES: Readonly<Record<string, FileOverride>> = {
  ...Object.fromEntries(
    GCOMPRIS_COMPRESSED_PHOTOS.map((n) => [`gcompris-qt-data:${n}.webp`, { decision: 'allow', reason: 'photo; WebP compression flattened areas past the filter' }]),
  ),
  'mate-backgrounds:Blinds.jpg': { decision: 'allow', reason: 'photo (leaf close-up), few colours after quantisation' },
  'mate-backgrounds:Storm.jpg': { decision: 'allow', reason: 'photo (storm over the sea), smooth sky' },
  'mate-backgrounds:Aqua.jpg': { decision: 'allow', reason: 'photo (water drop), smooth bokeh' },
  'mate-backgrounds:FreshFlower.jpg': { decision: 'allow', reason: 'photo (flower macro), smooth bokeh' },
  'mate-backgrounds:Garden.jpg': { decision: 'allow', reason: 'photo (marigold), smooth bokeh' },
  'mate-backgrounds:GreenMeadow.jpg': { decision: 'allow', reason: 'photo (grass)' },
  'mate-backgrounds:RainDrops.jpg': { decision: 'allow', reason: 'photo (leaf with drops)' },
  'mate-backgrounds:Wood.jpg': { decision: 'allow', reason: 'photo (wood planks, shallow depth of field)' },
  'mate-backgrounds:YellowFlower.jpg': { decision: 'allow', reason: 'photo (flower macro)' },
  'mate-backgrounds:Elephants.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Elephants_3840x2160.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Elephants_5640x3172.jpg': { decision: 'deny', reason: 'digital artwork' },
  'mate-backgrounds:Float-into-MATE.png': { decision: 'deny', reason: 'artwork with logo' },
  'lomiri-wallpapers-16.04:Bridge_by_Sander_Klootwijk.jpg': { decision: 'allow', reason: 'photo (bridge cables, sky)' },
  'lomiri-wallpapers-16.04:Picture_0B_by_freespace.jpg': { decision: 'allow', reason: 'photo (fig in a red bowl)' },
  'lomiri-wallpapers-16.04:Wine_by_Jakkub_Mede.jpg': { decision: 'allow', reason: 'photo (interior)' },
  'lomiri-wallpapers-16.04:aitzgorri_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (mountain landscape)' },
  'lomiri-wallpapers-16.04:analogpattern_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (textured surface, visible grain)' },
  'lomiri-wallpapers-16.04:free_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (lamps and a bird figure), nearly grey' },
  'lomiri-wallpapers-16.04:friends_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (dogs at a fence)' },
  'lomiri-wallpapers-16.04:greentock_by_Peter_Nerlich.jpg': { decision: 'allow', reason: 'photo (wall clock), nearly grey' },
  'lomiri-wallpapers-16.04:life_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (forest stream)' },
  'lomiri-wallpapers-16.04:picosdeeuropa_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (mountains)' },
  'lomiri-wallpapers-16.04:seeding_by_Clements_Engelhardt.jpg': { decision: 'allow', reason: 'photo (dandelions)' },
  'lomiri-wallpapers-16.04:sunset_by_Aitzol_Berasategi.jpg': { decision: 'allow', reason: 'photo (sunset landscape)' },
  'lomiri-wallpapers-16.04:umang_by_Abhishek_Mudgal.jpg': { decision: 'deny', reason: 'colour-gradient artwork' },
  'lomiri-wallpapers-20.04:Kleiber_by_Lukas_Baubkus.jpg': { decision: 'allow', reason: 'photo (nuthatch on a tree)' },
  'lomiri-wallpapers-20.04:Infinite-Sea_by_Aury88.jpg': { decision: 'deny', reason: 'composite artwork (graphic overlay on a sky photo)' },
  'gnome-backgrounds:grid-d.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:licorice-d.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:licorice-l.webp': { decision: 'deny', reason: '3-D render' },
  'gnome-backgrounds:pixels-l.webp': { decision: 'deny', reason: '3-D render of icons' },
  'ukui-wallpapers:calla.png': { decision: 'deny', reason: 'illustration' },
  'ukui-wallpapers:fluent-color.png': { decision: 'deny', reason: 'abstract render' },
  'ukui-wallpapers:goldfish.png': { decision: 'deny', reason: 'illustration' },
  'ukui-wallpapers:string.jpg': { decision: 'deny', reason: 'abstract render' },
  'python3-skimage:astronaut.png': { decision: 'allow', reason: 'photo', note: 'skimage docs: NASA, no known copyright restrictions (public domain)' },
  'python3-skimage:chelsea.png': { decision: 'allow', reason: 'photo (cat)', note: 'skimage docs: CC0 by the photographer (Stefan van der Walt)' },
  'python3-skimage:coffee.png': { decision: 'allow', reason: 'photo (coffee cup)', note: 'skimage docs: CC0 by the photographer (Rachel Michetti)' },
  'python3-skimage:hubble_deep_field.jpg': { decision: 'allow', reason: 'photo (deep field)', note: 'skimage docs: NASA, public domain' },
  'python3-skimage:motorcycle_left.png': { decision: 'allow', reason: 'photo (stereo pair, left)', note: 'skimage docs: Middlebury 2014 stereo benchmark' },
  'python3-skimage:motorcycle_right.png': { decision: 'allow', reason: 'photo (stereo pair, right)', note: 'skimage docs: Middlebury 2014 stereo benchmark' },
  'python3-skimage:rocket.jpg': { decision: 'allow', reason: 'photo (launch pad at night)', note: 'skimage docs: SpaceX, public domain' },
  'python3-skimage:ihc.png': { decision: 'deny', reason: 'microscopy, not a natural photograph' },
  'python3-skimage:retina.jpg': { decision: 'deny', reason: 'medical fundus image' },
  'python3-skimage:color.png': { decision: 'deny', reason: 'synthetic colour wheel' },
  'python3-skimage:logo.png': { decision: 'deny', reason: 'logo' },
  'enlightenment-data:Bamboo.jpg': { decision: 'allow', reason: 'photo (bamboo stems and leaves)' },
  'enlightenment-data:Foggy-Trees.jpg': { decision: 'allow', reason: 'photo (trees in fog, dark)' },
  'enlightenment-data:God-Rays.jpg': { decision: 'allow', reason: 'photo (sun rays through clouds)' },
  'enlightenment-data:Green-Maple.jpg': { decision: 'allow', reason: 'photo (maple leaves against the light)' },
  'enlightenment-data:Lichen-Branches.jpg': { decision: 'allow', reason: 'photo (lichen on branches)' },
  'enlightenment-data:Mountain.jpg': { decision: 'allow', reason: 'photo (mountain ridge at dusk)' },
  'enlightenment-data:Peaks.jpg': { decision: 'allow', reason: 'photo (mountain peaks at dusk, dark)' },
  'enlightenment-data:Red-Maple.jpg': { decision: 'allow', reason: 'photo (red maple leaves)' },
  'enlightenment-data:Sea-of-Lanterns.jpg': { decision: 'allow', reason: 'photo (paper lanterns)' },
  'enlightenment-data:Snow-Trees.jpg': { decision: 'allow', reason: 'photo (birches in snow)' },
  'enlightenment-data:Spruce-Needles.jpg': { decision: 'allow', reason: 'photo (spruce branch)' },
  'enlightenment-data:Sunset-Clouds.jpg': { decision: 'allow', reason: 'photo (clouds at sunset)' },
  'enlightenment-data:White-Flower.jpg': { decision: 'allow', reason: 'photo (frangipani flower)' },
  'enlightenment-data:Yellow-Flower.jpg': { decision: 'allow', reason: 'photo (yellow flower, leaves)' },
  'enlightenment-data:Dunes.jpg': { decision: 'deny', reason: 'vector illustration' },
  'enlightenment-data:Flat-Fan.jpg': { decision: 'deny', reason: 'flat vector artwork' },
  'enlightenment-data:Flat-Stone-Pattern.jpg': { decision: 'deny', reason: 'tiled texture pattern' },
  'enlightenment-data:Paper-Flower.jpg': { decision: 'deny', reason: 'paper texture, no scene' },
  'enlightenment-data:Sunset-Hills.jpg': { decision: 'deny', reason: 'render (flat polygon hills under a gradient)' },
  'lxqt-themes:Butterfly-Kenneth-Wimer.jpg': { decision: 'allow', reason: 'photo (butterfly on a flower)' },
  'lxqt-themes:Valendas.png': { decision: 'allow', reason: 'photo (mountain valley under clouds)' },
  'lxqt-themes:after-the-rain.jpg': { decision: 'allow', reason: 'photo (sunset clouds)' },
  'lxqt-themes:appleflower.png': { decision: 'allow', reason: 'photo (apple blossom)' },
  'lxqt-themes:beam.png': { decision: 'allow', reason: 'photo (sun beam over hills)' },
  'lxqt-themes:butterfly.png': { decision: 'allow', reason: 'photo (butterfly on a thistle)' },
  'lxqt-themes:cloud.png': { decision: 'allow', reason: 'photo (altocumulus sky)' },
  'lxqt-themes:drop.png': { decision: 'allow', reason: 'photo (drop on a grass blade)' },
  'lxqt-themes:flowers.png': { decision: 'allow', reason: 'photo (meadow flowers)' },
  'lxqt-themes:fog.jpg': { decision: 'allow', reason: 'photo (fog over a field)' },
  'lxqt-themes:this-is-not-windows.jpg': { decision: 'allow', reason: 'photo (green hills under a blue sky)' },
  'lxqt-themes:kde-plasma.png': { decision: 'deny', reason: 'abstract render' },
  'lxqt-themes:lxqt-origami-green.png': { decision: 'deny', reason: 'render with logo' },
  'lxqt-themes:origami-bright-logo.png': { decision: 'deny', reason: 'render with logo' },
  'lxqt-themes:origami-dark.png': { decision: 'deny', reason: 'render' },
  'lxqt-themes:origami-light.png': { decision: 'deny', reason: 'render' },
  'lxqt-themes:plasma-logo-bright.png': { decision: 'deny', reason: 'render with logo' },
  'lxqt-themes:plasma-logo-dark.png': { decision: 'deny', reason: 'render with logo' },
  'lxqt-themes:plasma_arch.png': { decision: 'deny', reason: 'render with logo' },
  'lxqt-themes:simple_blue_widescreen.png': { decision: 'deny', reason: 'gradient artwork' },
  'lxqt-themes:triangles-logo.png': { decision: 'deny', reason: 'polygon artwork with logo' },
  'lxqt-themes:triangles.png': { decision: 'deny', reason: 'polygon artwork' },
  'lxqt-themes:waves-logo.png': { decision: 'deny', reason: 'artwork with logo' },
  'lxqt-themes:waves-purple-logo.jpg': { decision: 'deny', reason: 'artwork with logo' },
  'gcompris-qt-data:details--image-PortraitOfPereTanguy_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-Van_Gogh_The_Night_Cafe_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-Eglise_dAuvers-sur-Oise_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-VincentVanGoghBridge_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-VincentVanGogh0012_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-VincentVanGogh0013_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-Gogh4_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'gcompris-qt-data:details--image-VincentVanGogh0019_background.webp': { decision: 'deny', reason: 'painting (Van Gogh)' },
  'tuxpaint-data:burnt_bark.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:cliff.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:corn_maze.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:jellyfish.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:lighthouse.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:mossy_bark.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:mossy_log.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:mudstone.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:ocean_splash.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:ocean_waves.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:redwoods_above.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:rocks.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:sheep.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:spiders_web.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:sun_behind_clouds.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:sun_behind_leaves.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:trees_above.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:trees_at_dusk.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxpaint-data:wool_mill_machine.jpg': { decision: 'allow', reason: 'photo (drawing template)' },
  'tuxmath-data:0.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:1.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:2.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:3.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:4.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:5.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:6.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:7.jpg': { decision: 'deny', reason: 'composite (space photo over a rendered ground strip)' },
  'tuxmath-data:menu_bkg.jpg': { decision: 'allow', reason: 'photo (Earth limb from orbit)' },
  'tuxtype-data:kcas0.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas1.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas2.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas3.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas4.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas5.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas6.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas7.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas8.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas9.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas10.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:kcas11.jpg': { decision: 'allow', reason: 'photo (landscape or wildlife)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:hidden.jpg': { decision: 'allow', reason: 'photo (seal pup)', note: 'README_IMAGES (in debian/copyright): the kcas* photos come from NOAA and the US Fish and Wildlife Service, public domain' },
  'tuxtype-data:0.jpg': { decision: 'allow', reason: 'astronomical photograph (galaxy)' },
  'tuxtype-data:1.jpg': { decision: 'allow', reason: 'astronomical photograph (nebula)' },
  'tuxtype-data:2.jpg': { decision: 'allow', reason: 'astronomical photograph (galaxy)' },
  'tuxtype-data:3.jpg': { decision: 'deny', reason: 'astronomical composite (planet and rings on black)' },
  'tuxtype-data:4.jpg': { decision: 'deny', reason: 'soft glow, no scene' },
  'tuxtype-data:main_bkg.png': { decision: 'deny', reason: 'render or interface graphic' },
  'tuxtype-data:pract.png': { decision: 'deny', reason: 'render or interface graphic' },
  'tuxtype-data:tutor-alpha.png': { decision: 'deny', reason: 'render or interface graphic' },
  'tuxtype-data:tutor.png': { decision: 'deny', reason: 'render or interface graphic' },
  'tuxtype-data:tutor2.png': { decision: 'deny', reason: 'render or interface graphic' },
  'tuxtype-data:tutor3.png': { decision: 'deny', reason: 'render or interface graphic' },
  'palapeli-data:castle-maintenon.jpg': { decision: 'allow', reason: 'photo', note: 'Eric Pouhier, GFDL (puzzle .desktop file)' },
  'palapeli-data:cincinnati-bridge.jpg': { decision: 'allow', reason: 'photo', note: 'Derek Jensen, public domain (puzzle .desktop file)' },
  'palapeli-data:citrus-fruits.jpg': { decision: 'allow', reason: 'photo', note: 'US Department of Agriculture, public domain (puzzle .desktop file)' },
  'palapeli-data:european-honey-bee.jpg': { decision: 'allow', reason: 'photo', note: 'John Severns, public domain (puzzle .desktop file)' },
  'palapeli-data:panther-chameleon-female.jpg': { decision: 'allow', reason: 'photo', note: 'B. Navez and others, GNU-FDL (puzzle .desktop file)' },
  'sddm-theme-maldives:background.jpg': { decision: 'allow', reason: 'photo (beach)' },
  'sddm-theme-maldives:maldives.jpg': { decision: 'deny', reason: 'screenshot (login box over the photo)' },
  'sddm-theme-maldives:rectangle.png': { decision: 'deny', reason: 'interface graphic' },
  'python3-sklearn:china.jpg': { decision: 'allow', reason: 'photo (temple)', note: 'sklearn datasets/images/README.txt: CC-BY-2.0, danielbuechele (flickr)' },
  'python3-sklearn:flower.jpg': { decision: 'allow', reason: 'photo (flower)', note: 'sklearn datasets/images/README.txt: CC-BY-2.0 (credits danielbuechele; the source page is flickr user vultilion)' },
  'python3-scipy:face.png': { decision: 'allow', reason: 'photo (raccoon)', note: 'SciPy docs (scipy.misc.face): public-domain image' },
  'python-matplotlib-data:grace_hopper.jpg': { decision: 'allow', reason: 'photo (portrait)', note: 'US Navy photograph, public domain' },
  'lomiri-wallpapers-16.04:Dragonfly_by_Bolly.jpg': { decision: 'allow', reason: 'photo (dragonfly)' },
  'lomiri-wallpapers-16.04:Picture_1A_by_freespace.jpg': { decision: 'allow', reason: 'photo' },
  'lomiri-wallpapers-20.04:Fossa_by_Jasper_Roks.jpg': { decision: 'deny', reason: 'abstract render' },
  'lomiri-wallpapers-20.04:Painting-Colors_by__herobrine7gamer.jpg': { decision: 'deny', reason: 'stripe artwork' },
};

/** Files that must land in the same split (near-duplicates). Keyed `package:basename` → group. */
export const FILE_GROUPS: Readonly<Record<string, string>> = {
  'python3-skimage:motorcycle_left.png': 'skimage-motorcycle',
  'python3-skimage:motorcycle_right.png': 'skimage-motorcycle',
  // gcompris's "details" puzzles reuse views of the monuments its "explore" activity shows
  'gcompris-qt-data:details--image-TajMahal_background.webp': 'gcompris-taj-mahal',
  'gcompris-qt-data:explore_monuments--wonders-tajMahal.webp': 'gcompris-taj-mahal',
  'gcompris-qt-data:details--image-Chenonceau_background.webp': 'gcompris-chenonceau',
  'gcompris-qt-data:explore_monuments--france-chateaudeChenonceau.webp': 'gcompris-chenonceau',
  'gcompris-qt-data:details--image-Neuschwanstein_background.webp': 'gcompris-neuschwanstein',
  'gcompris-qt-data:explore_monuments--germany-neuschwansteinCastle.webp': 'gcompris-neuschwanstein',
  'gcompris-qt-data:details--image-GizahPyramids_background.webp': 'gcompris-giza',
  'gcompris-qt-data:explore_monuments--egypt-greatPyramidOfGiza.webp': 'gcompris-giza',
};

export function fileKey(pkg: string, path: string): string {
  return `${pkg}:${path.split('/').pop() ?? path}`;
}

/**
 * File name given to a photo cut out of a container: the container's name and the member's
 * folder keep names unique (`erase.rcc` + `…/resource/gorilla.webp` → `erase--resource-gorilla.webp`).
 */
export function memberFileName(containerPath: string, memberPath: string): string {
  const stem = (containerPath.split('/').pop() ?? containerPath).replace(/\.[^.]+$/, '');
  const tail = memberPath.split('/').filter(Boolean).slice(-2).join('-');
  return `${stem}--${tail}`;
}

/** Decide whether a file is used: vector files never; explicit list first; then the filter. */
export function decideFile(pkg: string, path: string, stats: PhotoStats | null): { use: boolean; reason: string; note?: string } {
  assertTrainingPackage(pkg);
  const lower = path.toLowerCase();
  if (lower.endsWith('.svg') || lower.endsWith('.svgz')) return { use: false, reason: 'vector artwork (SVG)' };
  const o = FILE_OVERRIDES[fileKey(pkg, path)];
  if (o) return { use: o.decision === 'allow', reason: `explicit ${o.decision}: ${o.reason}`, ...(o.note ? { note: o.note } : {}) };
  if (!stats) return { use: false, reason: 'unreadable image' };
  const f = isLikelyPhoto(stats);
  return { use: f.photo, reason: `filter: ${f.reason}` };
}

/** One paragraph of a DEP-5 copyright file. */
interface CopyrightParagraph {
  files: string[];
  copyright: string;
  license: string;
}

/** Parse the `Files:` paragraphs of a machine-readable (DEP-5) debian/copyright. */
export function parseDep5(text: string): CopyrightParagraph[] {
  const paragraphs: CopyrightParagraph[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let current = '';
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m && !line.startsWith(' ')) {
        current = (m[1] as string).toLowerCase();
        fields[current] = (m[2] as string).trim();
      } else if (current && /^\s/.test(line)) {
        fields[current] = `${fields[current] ?? ''}\n${line.trim()}`;
      }
    }
    if (fields['files'] !== undefined && fields['license'] !== undefined) {
      paragraphs.push({
        files: fields['files'].split(/\s+/).filter(Boolean),
        copyright: (fields['copyright'] ?? '').split('\n').map((s) => s.trim()).filter(Boolean).join('; '),
        // `License:` may name the licence on its first line or leave it empty and state it below
        license: fields['license'].split('\n').map((l) => l.trim()).find((l) => l && l !== '.') ?? '',
      });
    }
  }
  return paragraphs;
}

const stripExtension = (path: string): string => path.replace(/\.[A-Za-z]+$/, '');

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`(^|/)${esc}$`);
}

/** Licence of one installed file, from its package's debian/copyright. */
export interface LicenceInfo {
  licence: string;
  copyright: string;
  /** the `Files:` pattern that matched, or how the licence was found */
  matchedBy: string;
}

/**
 * Find the licence of an installed file. Source paths in debian/copyright differ from installed
 * paths (`16.04/x.jpg` vs `usr/share/backgrounds/x.jpg`), so a pattern matches when it is a suffix
 * of the installed path, or when its file name equals the installed file name; the most specific
 * match wins (path suffix > path suffix with another extension > exact name > name glob > `*`),
 * and later paragraphs win ties (DEP-5 rule).
 * Non-DEP-5 files: the licence sentence following the first line that names the file.
 */
export function licenceFor(copyrightText: string, installedPath: string): LicenceInfo {
  const paragraphs = parseDep5(copyrightText);
  const base = installedPath.split('/').pop() ?? installedPath;
  if (paragraphs.length > 0) {
    let best: { score: number; p: CopyrightParagraph; pattern: string } | null = null;
    for (const p of paragraphs) {
      for (const pattern of p.files) {
        const name = pattern.split('/').pop() ?? pattern;
        let score = 0;
        if (pattern === '*') score = 1;
        else if (globToRegExp(pattern).test(installedPath)) score = 4;
        // packaging converts images (a source `x.jpg` ships as `x.webp`): same path, other extension
        else if (/\.[A-Za-z]+$/.test(pattern) && globToRegExp(stripExtension(pattern)).test(stripExtension(installedPath))) score = 3.5;
        else if (name === base) score = 3;
        else if (!pattern.endsWith('/*') && globToRegExp(name).test(base)) score = 2;
        if (score > 0 && (!best || score >= best.score)) best = { score, p, pattern };
      }
    }
    if (best) return { licence: best.p.license, copyright: best.p.copyright, matchedBy: `Files: ${best.pattern}` };
  }
  const lines = copyrightText.split('\n');
  const stem = base.replace(/[-_.].*$/, '');
  const at = lines.findIndex((l) => l.includes(base) || (stem.length > 2 && l.includes(`${stem}*`)));
  if (at >= 0) {
    const lic = lines.slice(at).find((l) => /licen[cs]ed under/i.test(l));
    if (lic) return { licence: lic.trim(), copyright: '', matchedBy: 'free-form copyright text' };
  }
  return { licence: 'unknown (see package copyright file)', copyright: '', matchedBy: 'none' };
}

/** FNV-1a 32-bit hash of a string (stable split keys). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Split files into train and val: order the groups by a salted hash of their key and take the
 * first ceil(valFraction · groups) as val (at least one when there are two or more groups).
 * Depends only on the keys and the salt, not on file order or count of crops.
 */
export function assignSplits(keys: readonly string[], valFraction: number, salt = 'codi-photos-v1'): Map<string, 'train' | 'val'> {
  const groupOf = (k: string): string => FILE_GROUPS[k] ?? k;
  const groups = [...new Set(keys.map(groupOf))].sort((a, b) => hashString(`${salt}:${a}`) - hashString(`${salt}:${b}`) || (a < b ? -1 : 1));
  const nVal = groups.length < 2 ? 0 : Math.max(1, Math.ceil(valFraction * groups.length));
  const valGroups = new Set(groups.slice(0, nVal));
  const out = new Map<string, 'train' | 'val'>();
  for (const k of keys) out.set(k, valGroups.has(groupOf(k)) ? 'val' : 'train');
  return out;
}

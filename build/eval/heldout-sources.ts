/**
 * Which files of the two evaluation-reserved Debian packages are held-out photographs. Decided by
 * looking at every candidate that is large enough (contact sheets of opencv-doc examples and of
 * the largest image of every plasma wallpaper): only photographs, one file per near-duplicate
 * group (stereo pairs, viewpoint series, an edited copy), no paintings, renders, drawings,
 * diagrams or motion-blurred frames. These packages are never used for training or tuning
 * (training/data/photo-sources.ts refuses them).
 */

/** A package searched for held-out photographs. */
export interface EvalPackage {
  name: string;
  /** folder inside the package searched for images */
  root: string;
  /** upstream source path of an installed path, used to look up the DEP-5 licence */
  upstreamPath(installed: string): string;
}

export const EVAL_PACKAGES: readonly EvalPackage[] = [
  {
    name: 'opencv-doc',
    root: 'usr/share/doc/opencv-doc/examples',
    // Debian installs upstream samples/ as examples/
    upstreamPath: (p) => p.replace(/^usr\/share\/doc\/opencv-doc\/examples\//, 'samples/'),
  },
  {
    name: 'plasma-workspace-wallpapers',
    root: 'usr/share/wallpapers',
    upstreamPath: (p) => p.replace(/^usr\/share\/wallpapers\//, 'wallpapers/'),
  },
];

/** Allowed files, keyed `package:path-inside-root`, with why (what the photo shows). */
export const EVAL_ALLOW_LIST: Readonly<Record<string, string>> = {
  // opencv-doc (upstream samples/data and contrib samples)
  'opencv-doc:alphamat/input_images/plant.jpg': 'potted plant indoors',
  'opencv-doc:data/aero3.jpg': 'aerial view of a town (aero1 is a near-duplicate, left out)',
  'opencv-doc:data/aloeL.jpg': 'aloe plant (Middlebury stereo; aloeR left out)',
  'opencv-doc:data/baboon.jpg': 'mandrill face (classic test photo)',
  'opencv-doc:data/board.jpg': 'circuit board close-up',
  'opencv-doc:data/building.jpg': 'hotel building facade',
  'opencv-doc:data/butterfly.jpg': 'butterfly on leaves',
  'opencv-doc:data/chicky_512.png': 'dog portrait',
  'opencv-doc:data/ela_original.jpg': 'notebook on a table (ela_modified is an edited copy, left out)',
  'opencv-doc:data/fruits.jpg': 'sliced fruit',
  'opencv-doc:data/graf1.png': 'graffiti wall (graf3 is another view, left out)',
  'opencv-doc:data/home.jpg': 'palace under a blue sky',
  'opencv-doc:data/left.jpg': 'books on a floor (stereo; right.jpg left out)',
  'opencv-doc:data/leuvenA.jpg': 'street of brick houses (leuvenB is another exposure, left out)',
  'opencv-doc:data/messi5.jpg': 'football player on a pitch',
  'opencv-doc:data/rubberwhale1.png': 'toys and fabric (Middlebury flow; rubberwhale2 left out)',
  'opencv-doc:data/squirrel_cls.jpg': 'squirrel on a branch',
  'opencv-doc:data/stuff.jpg': 'objects on a table',
  'opencv-doc:dnn_superres/butterfly.png': 'monarch butterfly wing close-up',
  'opencv-doc:reg/home.png': 'brick house',
  'opencv-doc:text/scenetext01.jpg': 'street with a parking sign',
  'opencv-doc:text/scenetext02.jpg': 'sign under trees',
  'opencv-doc:text/scenetext04.jpg': 'building and palm trees',
  'opencv-doc:text/scenetext06.jpg': 'street corner with shop front',
  'opencv-doc:text/scenetext_segmented_word01.jpg': 'hotel sign with flowers',
  'opencv-doc:text/scenetext_segmented_word02.jpg': 'shop sign',
  // plasma-workspace-wallpapers: the largest image of each photographic wallpaper
  'plasma-workspace-wallpapers:BytheWater': 'wooden jetty at a lake (photo)',
  'plasma-workspace-wallpapers:ColdRipple': 'pier in fog, near-monochrome (photo)',
  'plasma-workspace-wallpapers:ColorfulCups': 'stacked plastic cups (photo)',
  'plasma-workspace-wallpapers:DarkestHour': 'lake at dusk, smooth gradients (photo)',
  'plasma-workspace-wallpapers:EveningGlow': 'rowing boats at sunset (photo)',
  'plasma-workspace-wallpapers:FallenLeaf': 'autumn leaf, shallow depth of field (photo)',
  'plasma-workspace-wallpapers:Grey': 'architecture, black and white (photo)',
  'plasma-workspace-wallpapers:Kite': 'kite in a cloudy sky (photo)',
  'plasma-workspace-wallpapers:OneStandsOut': 'moss close-up (photo)',
  'plasma-workspace-wallpapers:Path': 'forest path (photo)',
  'plasma-workspace-wallpapers:summer_1am': 'lake at night, long exposure (photo)',
};

/** Key of a candidate: opencv files by path under the root, plasma wallpapers by folder. */
export function candidateKey(pkg: string, pathInRoot: string): string {
  if (pkg === 'plasma-workspace-wallpapers') return `${pkg}:${pathInRoot.split('/')[0] ?? pathInRoot}`;
  return `${pkg}:${pathInRoot}`;
}

/** A glob of a DEP-5 `Files:` line, anchored at the start of the source path (the DEP-5 meaning). */
export function dep5Matches(pattern: string, sourcePath: string): boolean {
  const esc = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`).test(sourcePath);
}

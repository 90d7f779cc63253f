/**
 * The instructions the edit model is trained on, with their paraphrases. Pure data with no imports,
 * so the engine and the UI can list what a model knows (the data builder also writes this table as
 * `instructions.json` next to an edit dataset). Paraphrases marked `heldOut` never appear in
 * training items; they exist to measure generalisation to unseen wordings.
 */

/** One wording of an instruction. */
export interface Paraphrase {
  text: string;
  /** true: reserved for evaluation, never used in a training item */
  heldOut: boolean;
}

/** One procedural edit and how people may ask for it. */
export interface EditInstruction {
  id: EditId;
  /** the canonical wording (always a training wording) */
  instruction: string;
  /** what the pixel function does, in words */
  description: string;
  paraphrases: readonly Paraphrase[];
}

export type EditId =
  | 'dark'
  | 'sunset'
  | 'black_and_white'
  | 'warmer'
  | 'cooler'
  | 'more_contrast'
  | 'vintage'
  | 'night'
  | 'brighter'
  | 'sepia'
  | 'desaturate'
  | 'foggy'
  | 'vivid'
  | 'invert'
  | 'less_contrast'
  | 'vignette'
  | 'teal_orange';

const t = (text: string): Paraphrase => ({ text, heldOut: false });
const h = (text: string): Paraphrase => ({ text, heldOut: true });

export const EDIT_INSTRUCTIONS: readonly EditInstruction[] = [
  { id: 'dark', instruction: 'make it dark', description: 'gamma 1.3 then ×0.55 on every channel', paraphrases: [t('make it dark'), t('darken the image'), t('make it darker'), t('lower the exposure'), h('turn down the brightness'), h('make the photo dim')] },
  { id: 'sunset', instruction: 'make it sunset', description: 'warm grade (R up, B down) plus an orange glow fading from the top, lower half slightly darker', paraphrases: [t('make it sunset'), t('turn it into a sunset'), t('give it sunset light'), t('golden hour'), h('make it look like the sun is setting'), h('evening sunset glow')] },
  { id: 'black_and_white', instruction: 'black and white', description: 'Rec. 709 luma copied to R, G and B', paraphrases: [t('black and white'), t('make it black and white'), t('convert to grayscale'), t('monochrome'), h('remove all colour'), h('make it greyscale')] },
  { id: 'warmer', instruction: 'warmer', description: 'R ×1.08 + 0.03, G ×1.02, B ×0.88', paraphrases: [t('warmer'), t('make it warmer'), t('warm up the colors'), t('add a warm tone'), h('make the colours warmer')] },
  { id: 'cooler', instruction: 'cooler', description: 'R ×0.88, B ×1.08 + 0.03', paraphrases: [t('cooler'), t('make it cooler'), t('cool down the colors'), t('add a cold blue tone'), h('make the colours colder')] },
  { id: 'more_contrast', instruction: 'more contrast', description: '(x − 0.5)·1.45 + 0.5 per channel', paraphrases: [t('more contrast'), t('increase the contrast'), t('boost contrast'), t('make it punchier'), h('add contrast'), h('higher contrast please')] },
  { id: 'vintage', instruction: 'vintage', description: 'saturation 0.6, faded blacks (0.08 + 0.84·x), warm tint, vignette 1 − 0.35·r²', paraphrases: [t('vintage'), t('make it look vintage'), t('old photo look'), t('retro film look'), h('make it look like an old photograph')] },
  { id: 'night', instruction: 'make it night', description: 'saturation 0.4, gamma 1.3, ×0.35, blue tint (R ×0.8, G ×0.9, B ×1.25)', paraphrases: [t('make it night'), t('turn day into night'), t('make it nighttime'), t('night scene'), h('make it look like it was taken at night')] },
  { id: 'brighter', instruction: 'brighter', description: 'gamma 0.7 (x^0.7) per channel', paraphrases: [t('brighter'), t('make it brighter'), t('brighten the image'), t('increase the exposure'), h('lighten it up'), h('more light')] },
  { id: 'sepia', instruction: 'sepia', description: 'the classic sepia matrix (0.393 0.769 0.189 / 0.349 0.686 0.168 / 0.272 0.534 0.131)', paraphrases: [t('sepia'), t('make it sepia'), t('sepia tone'), t('brownish old tint'), h('give it a sepia look')] },
  { id: 'desaturate', instruction: 'desaturate', description: 'mix of 35 % colour and 65 % luma', paraphrases: [t('desaturate'), t('less saturated'), t('tone down the colors'), t('muted colors'), h('reduce the saturation')] },
  { id: 'foggy', instruction: 'make it foggy', description: 'blend towards fog grey (0.82, 0.84, 0.86) by 0.6 at the top to 0.35 at the bottom', paraphrases: [t('make it foggy'), t('add fog'), t('misty atmosphere'), t('make it hazy'), h('cover it in mist'), h('add some haze')] },
  { id: 'vivid', instruction: 'more saturated', description: 'saturation 1.6 (extrapolate away from luma)', paraphrases: [t('more saturated'), t('make the colors pop'), t('vivid colors'), t('boost saturation'), h('make it more colourful')] },
  { id: 'invert', instruction: 'invert the colors', description: '1 − x per channel', paraphrases: [t('invert the colors'), t('negative'), t('make it a negative'), h('invert it')] },
  { id: 'less_contrast', instruction: 'less contrast', description: '(x − 0.5)·0.6 + 0.5 per channel', paraphrases: [t('less contrast'), t('reduce the contrast'), t('make it flatter'), t('soften the contrast'), h('lower contrast')] },
  { id: 'vignette', instruction: 'add a vignette', description: 'multiply by 1 − 0.6·r², r = distance to centre over the half diagonal', paraphrases: [t('add a vignette'), t('darken the corners'), t('vignette'), h('darker edges')] },
  { id: 'teal_orange', instruction: 'cinematic teal and orange', description: 'shadows pushed to teal, highlights to orange, weighted by luma', paraphrases: [t('cinematic teal and orange'), t('make it cinematic'), t('movie color grade'), h('give it a film look like a blockbuster')] },
];

/** Wordings usable in training items for an edit. */
export function trainingPhrases(e: EditInstruction): string[] {
  return e.paraphrases.filter((p) => !p.heldOut).map((p) => p.text);
}

/** Wordings reserved for evaluation. */
export function heldOutPhrases(e: EditInstruction): string[] {
  return e.paraphrases.filter((p) => p.heldOut).map((p) => p.text);
}

/** Find the edit a wording belongs to (case- and space-insensitive). */
export function findEditByText(text: string): EditInstruction | undefined {
  const norm = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');
  const q = norm(text);
  return EDIT_INSTRUCTIONS.find((e) => e.paraphrases.some((p) => norm(p.text) === q));
}

/** The contract: channels, schemas, the CodiApi interface and the web-mode framing. */
export * from './channels.ts';
export * from './schemas.ts';
export * from './personal-schemas.ts';
export * from './api.ts';
export * from './wire.ts';

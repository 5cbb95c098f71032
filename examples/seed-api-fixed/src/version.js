export const VERSION = process.env.APP_VERSION ?? '1.4.0';

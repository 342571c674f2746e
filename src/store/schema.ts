/**
 * The whole schema, as drizzle-kit and the database layer see it: the core tables plus each area's own file.
 * Area files import what they reference from schema-core.ts (never from here), so there is no import cycle.
 */
export * from './schema-core.js';
export * from './schema-oversight.js';
export * from './schema-reports.js';
export * from './schema-sms.js';
export * from './schema-protection.js';

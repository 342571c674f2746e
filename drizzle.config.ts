import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate` writes the next versioned migration for src/store/schema.ts; no database needed. */
export const config = defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema.ts',
  out: './src/store/migrations',
  strict: true,
  verbose: true,
});

// drizzle-kit reads the config file's default export; this is the one default export in the project.
export default config;

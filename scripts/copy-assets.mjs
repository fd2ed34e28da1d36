// Copies non-TypeScript assets (the dashboard's static files) next to the compiled output.
import { cpSync, existsSync } from 'node:fs';

if (existsSync('src/server/public')) {
  cpSync('src/server/public', 'dist/server/public', { recursive: true });
}

// The demo board's build: `vite build` into dist/, which `cardsync-server --static-dir`
// serves next to the rooms.
import { defineConfig } from "vite";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  logLevel: "warn",
});

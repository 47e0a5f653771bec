// The error class every cardsync failure is thrown as.
//
// It is registered under a global symbol because the wasm glue that throws it is generated
// code: it looks the class up there (see bindings/wasm/src/error.rs), so `instanceof` works
// without this file and the generated files importing each other.

const key = Symbol.for("cardsync.CardsyncError");

if (!globalThis[key]) {
  /** An error from cardsync, with a stable machine-readable `code`. */
  class CardsyncError extends Error {
    /**
     * @param {string} code
     * @param {string} message
     */
    constructor(code, message) {
      super(message);
      this.name = "CardsyncError";
      this.code = code;
    }
  }
  globalThis[key] = CardsyncError;
}

export const CardsyncError = globalThis[key];

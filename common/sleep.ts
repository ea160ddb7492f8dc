/**
 * A wait on the global timers as they are when it is called, so a test that holds the clock
 * (fake timers installed after this module loaded) holds every wait too; `node:timers/promises`
 * would keep its own timers and escape it.
 */
export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

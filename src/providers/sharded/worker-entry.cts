/**
 * The file piscina starts a shard thread with. piscina `require()`s its worker file before it tries
 * `import()`, and through require(esm) Node aborted the whole process when a shard thread was ended while
 * its module loaded (Node 22.23: an assertion in CreateRequiredModuleFacade; Node 20.20: "IsGraphAsync must
 * be used on an instantiated module"), which the watchdog and close() may do. This CommonJS file is
 * required as plain CommonJS, and loads the shard's ES module with `import()`.
 */
module.exports = async function runShardEntry(setup: unknown): Promise<number> {
  const { default: runShard } = (await import('./worker.js')) as {
    default: (setup: unknown) => Promise<number>;
  };
  return runShard(setup);
};

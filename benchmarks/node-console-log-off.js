// Preloaded (node --require) into the article's server for one benchmark row only: console.log becomes
// a no-op, to show what the server's logging of every message costs. The article's code is not changed.
console.log = () => {};

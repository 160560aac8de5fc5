/**
 * The ports of the servers a load test spreads its clients over, from a comma list such as
 * `8080,8081`: each a whole number from 1 to 65535, none twice (two clients of a pair on the same
 * port would be on the same server). What is wrong with a list is thrown, as an Error saying why.
 */
export function parsePortList(text: string): number[] {
  if (text === '') throw new Error('it is empty');
  const ports = text.split(',').map((entry) => {
    const port = /^\d+$/.test(entry) ? Number(entry) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw new Error(entry === '' ? 'one is empty' : `"${entry}" is no port from 1 to 65535`);
    }
    return port;
  });
  const twice = ports.find((port, index) => ports.indexOf(port) !== index);
  if (twice !== undefined) throw new Error(`${twice} is there twice`);
  return ports;
}

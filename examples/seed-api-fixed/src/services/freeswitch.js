// FreeSWITCH event-socket client (a stand-in: it records what it would dial).
const calls = [];

export function dial(number) {
  calls.push(number);
  return { number, queued: calls.length };
}

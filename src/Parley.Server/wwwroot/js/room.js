// @ts-check
// room.js is the entry module of the meeting page /r/{room}. It wires the
// views to each other and to the no-DOM modules: the pre-join step
// (prejoin.js), the call (call.js), the local media (media.js) and the
// Meeting (meeting.js, which speaks signaling.js and moves media through a
// transport.js transport), and joins when asked.

import { CallView, joinErrorText } from './call.js';
import { byId, showView } from './dom.js';
import { LocalMedia } from './media.js';
import { Meeting } from './meeting.js';
import { PrejoinView } from './prejoin.js';
import { roomFromPath } from './room-id.js';
import { SignalingClient, signalingUrl } from './signaling.js';

/**
 * startRoom runs the page for `room`, from the pre-join step on.
 * @param {string} room
 */
function startRoom(room) {
  const media = new LocalMedia();
  /** name is the one the user joins with, from the pre-join form. */
  let name = '';
  const prejoin = new PrejoinView(room, media, (typed) => {
    name = typed;
    void join();
  });
  const call = new CallView(room, media, () => void join());

  /** join connects to the room: the first time, and on rejoin after the connection was lost. */
  async function join() {
    prejoin.setJoining(true);
    call.setJoining(true);
    await prejoin.mediaReady;

    const meeting = new Meeting(new SignalingClient(signalingUrl(location)), media, { relayOnly: prejoin.relayWanted });
    call.listen(meeting);
    /** @type {import('./signaling.js').JoinedMessage} */
    let joined;
    try {
      joined = await meeting.join(room, name);
    } catch (err) {
      prejoin.setJoining(false);
      call.setJoining(false);
      const text = joinErrorText(err);
      if (call.visible) call.showError(text);
      else prejoin.showError(text);
      return;
    }
    prejoin.setJoining(false);
    call.setJoining(false);
    prejoin.setIceConfig({ iceServers: joined.iceServers ?? [], iceTransportPolicy: joined.iceTransportPolicy ?? 'all' });
    call.enter(meeting, name);
  }

  document.title = `${room} · Parley`;
  byId('room-label', HTMLSpanElement).textContent = room;
  prejoin.start();
}

const room = roomFromPath(location.pathname);
if (room) startRoom(room);
else showView('bad-room');

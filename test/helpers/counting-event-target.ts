// An in-process event target that counts its listeners and the calls its dispatches make:
// what a subscriber costs while it listens, and whether it is gone once it leaves.
export class CountingEventTarget extends EventTarget {
  /** Listeners added and not yet removed. */
  listeners = 0;
  /** Listener calls made by every dispatch so far. */
  calls = 0;
  private readonly counted = new Map<EventListenerOrEventListenerObject, EventListener>();

  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ) {
    if (!listener || this.counted.has(listener)) return;
    const call = typeof listener === "function" ? listener : (event: Event) => listener.handleEvent(event);
    const counted: EventListener = (event) => {
      this.calls++;
      call(event);
    };
    this.counted.set(listener, counted);
    this.listeners++;
    super.addEventListener(type, counted, options);
  }

  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ) {
    const counted = listener && this.counted.get(listener);
    if (!counted) return;
    this.counted.delete(listener);
    this.listeners--;
    super.removeEventListener(type, counted, options);
  }
}

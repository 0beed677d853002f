/** One line of the passenger display, in both languages the gate shows. */
export interface DisplayLine {
  zh: string;
  en: string;
}

export interface DisplayStyle {
  /** Large text for elderly and visually impaired passengers. */
  large?: boolean;
}

export interface Display {
  show(lines: readonly DisplayLine[], style?: DisplayStyle): Promise<void>;
}

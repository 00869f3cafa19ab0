/** A model (or its labels file) that cannot be used; `file` names it so the message can be acted on. */
export class ModelFileError extends Error {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelFileError';
    this.file = file;
  }
}

import type { PurposeOfUse } from '../../auth/principal';
import { NotificationCategory } from './codes';

/** The date and time of an ISO instant, as a French reader expects it (Paris time). */
const WHEN = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' });

/** The subject line of an e-mail (no health data, no name). */
export function subjectOf(category: NotificationCategory): string {
  switch (category) {
    case NotificationCategory.newDocument:
      return 'Votre DMP : un nouveau document a été ajouté';
    case NotificationCategory.firstAccess:
      return 'Votre DMP : un professionnel y a accédé pour la première fois';
    case NotificationCategory.emergencyAccess:
      return "Votre DMP : un accès en mode d'urgence a eu lieu";
  }
}

/**
 * The notification's text (`Communication.payload.contentString`): who and
 * what, when. Never document content, type or title, nor any other health
 * data: the text travels by e-mail or SMS.
 */
export function textOf(category: NotificationCategory, actor: string, at: string, purpose: PurposeOfUse): string {
  const when = WHEN.format(new Date(at));
  switch (category) {
    case NotificationCategory.newDocument:
      return `Un document a été ajouté à votre Dossier Médical Partagé le ${when} par ${actor}. Vous pouvez le consulter dans votre DMP.`;
    case NotificationCategory.firstAccess:
      return `Le ${when}, ${actor} a accédé pour la première fois à votre Dossier Médical Partagé.`;
    case NotificationCategory.emergencyAccess: {
      const mode = purpose === 'centre_15' ? 'par la régulation du SAMU-Centre 15' : 'en mode bris de glace';
      return `Le ${when}, ${actor} a accédé à votre Dossier Médical Partagé en urgence (${mode}). Vous pouvez consulter l'historique des accès dans votre DMP.`;
    }
  }
}
